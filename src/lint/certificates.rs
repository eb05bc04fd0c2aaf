//! The CA and client certificates the inventory names, read as X.509 the way containerd's TLS
//! reads them: a file with no certificate, a block that is not one, or a client key that does
//! not belong to its certificate fails every pull through that mirror. With a clock, validity
//! dates too: an expired certificate fails the handshake, one about to expire soon will.

use std::path::Path;

use crate::code::Code;
use crate::error::{Problem, Severity};
use crate::fsx;
use crate::inventory::path::{index, key};
use crate::inventory::{Ca, ClientCert, Inventory, Spanned};
use crate::x509::{self, Certificate, KeyMatch, PemBlock};

/// A certificate that expires within this many seconds is a warning.
const EXPIRY_WARNING_SECS: i64 = 30 * 86_400;

/// Largest certificate or key file read; the same bound as the readability check (N001).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Every problem of the certificates and keys the inventory names, below `root`. A file that
/// cannot be read is skipped: `lint --root` reports it (N001), and `apply` writes a hosts.toml
/// naming a file that something else installs later. `now` (Unix seconds) judges validity
/// dates; `None` leaves them out (for `apply`, which refuses only what no clock makes right).
pub(crate) fn check_certificates(
    inventory: &Inventory,
    root: &Path,
    now: Option<i64>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for registry in &inventory.registries {
        let registry_path = key("registries", &registry.name);
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index(&key(&registry_path, "mirrors"), i);
            for (j, ca) in mirror.ca.iter().enumerate() {
                // PEM content is checked with the inventory (M013), and its dates by
                // `check_pem_certificates`, root or not.
                if let Ca::File(file) = ca
                    && let Some(text) = read(root, file)
                {
                    let path = index(&key(&mirror_path, "ca"), j);
                    certificates(&text, file, &path, now, &mut out);
                }
            }
            for (j, client) in mirror.client.iter().enumerate() {
                let client_path = index(&key(&mirror_path, "client"), j);
                match client {
                    ClientCert::Combined(file) => {
                        if let Some(text) = read(root, file) {
                            let leaf = certificates(&text, file, &client_path, now, &mut out);
                            private_key(&text, file, leaf.as_ref(), file, &client_path, &mut out);
                        }
                    }
                    ClientCert::Pair {
                        cert,
                        key: key_file,
                    } => {
                        let cert_path = key(&client_path, "cert");
                        let leaf = read(root, cert)
                            .and_then(|text| certificates(&text, cert, &cert_path, now, &mut out));
                        if let Some(text) = read(root, key_file) {
                            let key_path = key(&client_path, "key");
                            private_key(&text, key_file, leaf.as_ref(), cert, &key_path, &mut out);
                        }
                    }
                }
            }
        }
    }
    out
}

/// The validity dates of the CA certificates the inventory carries as `ca: {pem: …}`, named
/// by the node path mirrorctl writes them to. Needs no node: the content is the inventory's.
/// Whether the content holds certificates at all is the inventory's own rule (M013).
pub(crate) fn check_pem_certificates(inventory: &Inventory, now: i64) -> Vec<Problem> {
    let mut out = Vec::new();
    for registry in &inventory.registries {
        let registry_path = key("registries", &registry.name);
        let dir = inventory.paths.certs_dir.child(&registry.dir_name());
        for (i, mirror) in registry.mirrors.iter().enumerate() {
            let mirror_path = index(&key(&registry_path, "mirrors"), i);
            for (j, ca) in mirror.ca.iter().enumerate() {
                let Ca::Pem(pem) = ca else { continue };
                let named = Spanned {
                    value: ca.node_path(&dir),
                    mark: pem.mark,
                };
                let path = key(&index(&key(&mirror_path, "ca"), j), "pem");
                let mut found = Vec::new();
                certificates(&pem.value, &named, &path, Some(now), &mut found);
                out.extend(
                    found
                        .into_iter()
                        .filter(|p| matches!(p.code, Code::N008 | Code::N101)),
                );
            }
        }
    }
    out
}

fn read(root: &Path, file: &Spanned<String>) -> Option<String> {
    let bytes = fsx::read_limited(&fsx::under_root(root, &file.value), MAX_FILE_BYTES).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Checks every `CERTIFICATE` block of a file; returns the first (a client file's leaf, the
/// one its key must match) when it parses.
fn certificates(
    text: &str,
    file: &Spanned<String>,
    path: &str,
    now: Option<i64>,
    out: &mut Vec<Problem>,
) -> Option<Certificate> {
    // Go reads only blocks labelled exactly CERTIFICATE; `TRUSTED CERTIFICATE` is OpenSSL's own.
    let blocks: Vec<PemBlock> = x509::pem_blocks(text)
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .collect();
    if blocks.is_empty() {
        out.push(Problem::hinted(
            Code::N002,
            Severity::Error,
            path,
            file.mark.pair(),
            format!("`{}` holds no PEM CERTIFICATE block", file.value),
            "point at a PEM file (-----BEGIN CERTIFICATE-----)",
        ));
        return None;
    }
    let count = blocks.len();
    let mut leaf = None;
    for (k, block) in blocks.iter().enumerate() {
        let which = if count == 1 {
            String::new()
        } else {
            format!(" (certificate {} of {count})", k + 1)
        };
        let parsed = x509::certificate_block(block);
        let certificate = match parsed {
            Ok(certificate) => certificate,
            Err(reason) => {
                out.push(Problem::hinted(
                    Code::N006,
                    Severity::Error,
                    path,
                    file.mark.pair(),
                    format!(
                        "`{}`: the CERTIFICATE block at line {}{which} is not an X.509 certificate: {reason}",
                        file.value, block.line
                    ),
                    "re-export it (openssl x509 -in FILE -out FILE.pem) or replace the file",
                ));
                continue;
            }
        };
        if let Some(now) = now {
            dates(&certificate, &which, file, path, now, out);
        }
        if k == 0 {
            leaf = Some(certificate);
        }
    }
    leaf
}

fn dates(
    certificate: &Certificate,
    which: &str,
    file: &Spanned<String>,
    path: &str,
    now: i64,
    out: &mut Vec<Problem>,
) {
    let subject = if certificate.subject.is_empty() {
        "with an empty subject".to_string()
    } else {
        format!("`{}`", certificate.subject)
    };
    let (not_before, not_after) = (certificate.not_before, certificate.not_after);
    let (severity, code, message, hint) = if now > not_after.unix {
        (
            Severity::Error,
            Code::N008,
            format!(
                "expired on {not_after}: TLS through this mirror fails, so pulls go to the next endpoint or fail"
            ),
            "renew the certificate",
        )
    } else if now < not_before.unix {
        (
            Severity::Error,
            Code::N008,
            format!("is not valid before {not_before}: TLS through this mirror fails until then"),
            "check the node's clock, or the certificate's notBefore",
        )
    } else if not_after.unix - now < EXPIRY_WARNING_SECS {
        let days = (not_after.unix - now) / 86_400;
        let when = match days {
            0 => "within a day".to_string(),
            1 => "in 1 day".to_string(),
            n => format!("in {n} days"),
        };
        (
            Severity::Warning,
            Code::N101,
            format!("expires on {not_after}, {when}"),
            "renew the certificate before then",
        )
    } else {
        return;
    };
    out.push(Problem::hinted(
        code,
        severity,
        path,
        file.mark.pair(),
        format!(
            "`{}`: the certificate {subject}{which} {message}",
            file.value
        ),
        hint,
    ));
}

/// The first private-key block of a file (as Go's `tls.X509KeyPair` picks it), read and, when
/// the certificate parsed, compared with the certificate's public key.
fn private_key(
    text: &str,
    file: &Spanned<String>,
    leaf: Option<&Certificate>,
    cert_file: &Spanned<String>,
    path: &str,
    out: &mut Vec<Problem>,
) {
    let Some(block) = x509::pem_blocks(text)
        .into_iter()
        .find(|b| b.label == "PRIVATE KEY" || b.label.ends_with(" PRIVATE KEY"))
    else {
        out.push(Problem::hinted(
            Code::N002,
            Severity::Error,
            path,
            file.mark.pair(),
            format!("`{}` holds no PEM PRIVATE KEY block", file.value),
            "point at a PEM file (-----BEGIN …PRIVATE KEY-----)",
        ));
        return;
    };
    let public = match x509::private_key(&block) {
        Ok(public) => public,
        Err(reason) => {
            out.push(Problem::hinted(
                Code::N006,
                Severity::Error,
                path,
                file.mark.pair(),
                format!(
                    "`{}`: the {} block at line {} is not a private key containerd reads: {reason}",
                    file.value, block.label, block.line
                ),
                "write it unencrypted as PKCS#8, PKCS#1 or SEC1 (openssl pkey -in KEY -out KEY.pem)",
            ));
            return;
        }
    };
    let Some(leaf) = leaf else {
        return;
    };
    match x509::key_matches(&leaf.public_key, &public) {
        KeyMatch::Yes => {}
        KeyMatch::No(why) => out.push(Problem::hinted(
            Code::N007,
            Severity::Error,
            path,
            file.mark.pair(),
            format!(
                "the private key in `{}` does not belong to the certificate `{}` in `{}` ({why}): containerd refuses the pair and fails every pull through this mirror",
                file.value, leaf.subject, cert_file.value
            ),
            "install the key the certificate was issued for (compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout`)",
        )),
        KeyMatch::Unknown(why) => out.push(Problem::hinted(
            Code::N102,
            Severity::Info,
            path,
            file.mark.pair(),
            format!(
                "the private key in `{}` cannot be checked against the certificate in `{}`: {why}",
                file.value, cert_file.value
            ),
            "compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout` by hand",
        )),
    }
}
