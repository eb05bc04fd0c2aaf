//! TLS as containerd configures it for one endpoint: the system roots with the endpoint's `ca`
//! files appended, its `client` certificates, `skip_verify`; and what the handshake showed —
//! which CA verified the server (or why none did), the server certificate's subject and
//! notAfter, whether the server asked for a client certificate.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::fsx;
use crate::x509;

/// Largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 1 << 20;

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trusted roots, read once per run (as Go's crypto/x509 reads the system bundle).
#[derive(Debug, Clone)]
pub(crate) struct SystemRoots {
    pub(crate) certs: Vec<CertificateDer<'static>>,
}

impl SystemRoots {
    pub(crate) fn load() -> Self {
        // Unreadable entries of the system bundle are left out, as Go leaves them out.
        let found = rustls_native_certs::load_native_certs();
        SystemRoots { certs: found.certs }
    }
}

/// A certificate the probe read or was shown, for reports and expiry metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub(crate) subject: String,
    pub(crate) not_after: i64,
}

impl CertInfo {
    pub(crate) fn of(der: &[u8]) -> Option<CertInfo> {
        x509::certificate(der).ok().map(|c| CertInfo {
            subject: c.subject,
            not_after: c.not_after.unix,
        })
    }

    pub(crate) fn not_after_text(&self) -> String {
        x509::Time {
            unix: self.not_after,
        }
        .to_string()
    }
}

/// A configured file (CA or client certificate): its node path and what it holds.
#[derive(Debug, Clone)]
pub(crate) struct ConfiguredCert {
    /// `ca` or `client`.
    pub(crate) kind: &'static str,
    pub(crate) node_path: String,
    pub(crate) certs: Vec<CertInfo>,
}

/// How the server's certificate fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Verified by the CA file at this node path.
    ByCa(String),
    BySystemRoots,
    Failed(String),
    /// `skip_verify`: not checked by containerd; the string says whether it would verify.
    Skipped(String),
}

/// What one handshake showed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observed {
    pub(crate) server_cert: Option<CertInfo>,
    pub(crate) verification: Option<Verification>,
    pub(crate) client_cert_requested: bool,
    pub(crate) client_cert_sent: bool,
}

/// The TLS side of one endpoint, ready for handshakes.
#[derive(Debug)]
pub(crate) struct Setup {
    pub(crate) config: Arc<rustls::ClientConfig>,
    pub(crate) observed: Arc<Mutex<Observed>>,
    pub(crate) configured: Vec<ConfiguredCert>,
}

/// The client certificates of an endpoint, as (certificate file, key file) node paths; one
/// file holding both is given twice.
#[derive(Debug, Clone)]
pub(crate) struct ClientFiles {
    pub(crate) cert: String,
    pub(crate) key: String,
}

/// Everything containerd's per-host TLS config is built from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) ca: Vec<String>,
    pub(crate) client: Vec<ClientFiles>,
    pub(crate) skip_verify: bool,
}

fn read(root: &Path, node_path: &str) -> Result<(PathBuf, Vec<u8>), String> {
    let path = fsx::under_root(root, node_path);
    let bytes = fsx::read_limited(&path, MAX_PEM_BYTES)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((path, bytes))
}

fn certs_of(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no certificate", path.display()));
    }
    Ok(certs)
}

/// Builds the endpoint's TLS config. A CA or client file that cannot be used is an error, as
/// containerd fails every pull of the registry then (it fails closed).
pub(crate) fn setup(
    settings: &Settings,
    root: &Path,
    system: &SystemRoots,
) -> Result<Setup, String> {
    let provider = provider();
    let mut configured = Vec::new();
    let mut ca_verifiers = Vec::new();
    let mut all_roots = RootCertStore::empty();
    all_roots.add_parsable_certificates(system.certs.iter().cloned());
    for node_path in &settings.ca {
        let (path, bytes) = read(root, node_path)?;
        let certs = certs_of(&path, &bytes)?;
        configured.push(ConfiguredCert {
            kind: "ca",
            node_path: node_path.clone(),
            certs: certs.iter().filter_map(|c| CertInfo::of(c)).collect(),
        });
        let mut own = RootCertStore::empty();
        let (added, _) = own.add_parsable_certificates(certs.iter().cloned());
        if added == 0 {
            return Err(format!("{}: no usable CA certificate", path.display()));
        }
        all_roots.add_parsable_certificates(certs);
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(own), provider.clone())
            .build()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        ca_verifiers.push((node_path.clone(), verifier));
    }
    let all = if all_roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(all_roots), provider.clone())
                .build()
                .map_err(|e| format!("the trusted roots: {e}"))?,
        )
    };
    let mut keys = Vec::new();
    for files in &settings.client {
        let (cert_path, cert_bytes) = read(root, &files.cert)?;
        let certs = certs_of(&cert_path, &cert_bytes)?;
        let (key_path, key_bytes) = read(root, &files.key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_bytes)
            .map_err(|_| format!("{}: holds no usable private key", key_path.display()))?;
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| format!("{}: {e}", key_path.display()))?;
        configured.push(ConfiguredCert {
            kind: "client",
            node_path: files.cert.clone(),
            certs: certs
                .iter()
                .take(1)
                .filter_map(|c| CertInfo::of(c))
                .collect(),
        });
        keys.push(Arc::new(CertifiedKey::new(certs, signing)));
    }
    let observed = Arc::new(Mutex::new(Observed::default()));
    let verifier = Arc::new(Recorder {
        all,
        by_ca: ca_verifiers,
        skip_verify: settings.skip_verify,
        observed: observed.clone(),
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = builder.with_client_cert_resolver(Arc::new(ClientCerts {
        keys,
        observed: observed.clone(),
    }));
    Ok(Setup {
        config: Arc::new(config),
        observed,
        configured,
    })
}

/// The server name a handshake sends and verifies: the URL's host without port or brackets.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|e| format!("`{host}`: {e}"))
}

/// Verifies as containerd's TLS config would, and records what it saw.
#[derive(Debug)]
struct Recorder {
    all: Option<Arc<WebPkiServerVerifier>>,
    by_ca: Vec<(String, Arc<WebPkiServerVerifier>)>,
    skip_verify: bool,
    observed: Arc<Mutex<Observed>>,
    provider: Arc<CryptoProvider>,
}

impl Recorder {
    fn record(&self, f: impl FnOnce(&mut Observed)) {
        if let Ok(mut o) = self.observed.lock() {
            f(&mut o);
        }
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let info = CertInfo::of(end_entity);
        let outcome = match &self.all {
            None => {
                Err("no trusted root: the system has none and no `ca` is configured".to_string())
            }
            Some(all) => all
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map(|_| {
                    self.by_ca
                        .iter()
                        .find(|(_, v)| {
                            v.verify_server_cert(
                                end_entity,
                                intermediates,
                                server_name,
                                ocsp_response,
                                now,
                            )
                            .is_ok()
                        })
                        .map_or(Verification::BySystemRoots, |(p, _)| {
                            Verification::ByCa(p.clone())
                        })
                })
                .map_err(|e| e.to_string()),
        };
        let (verification, result) = match (self.skip_verify, outcome) {
            (false, Ok(v)) => (v, Ok(ServerCertVerified::assertion())),
            (false, Err(e)) => (
                Verification::Failed(e.clone()),
                Err(rustls::Error::General(format!(
                    "certificate not trusted: {e}"
                ))),
            ),
            (true, Ok(v)) => (
                Verification::Skipped(format!("it would verify ({})", verification_text(&v))),
                Ok(ServerCertVerified::assertion()),
            ),
            (true, Err(e)) => (
                Verification::Skipped(format!("it would not verify: {e}")),
                Ok(ServerCertVerified::assertion()),
            ),
        };
        self.record(|o| {
            o.server_cert = info;
            o.verification = Some(verification);
        });
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

pub(crate) fn verification_text(v: &Verification) -> String {
    match v {
        Verification::ByCa(path) => format!("verified by ca {path}"),
        Verification::BySystemRoots => "verified by the system roots".into(),
        Verification::Failed(e) => format!("not verified: {e}"),
        Verification::Skipped(s) => format!("skip_verify: not checked; {s}"),
    }
}

/// Hands the first configured client certificate to a server that asks (Go's client sends
/// the first of its certificates the server's request allows), and records the request.
#[derive(Debug)]
struct ClientCerts {
    keys: Vec<Arc<CertifiedKey>>,
    observed: Arc<Mutex<Observed>>,
}

impl ResolvesClientCert for ClientCerts {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let key = self.keys.first().cloned();
        if let Ok(mut o) = self.observed.lock() {
            o.client_cert_requested = true;
            o.client_cert_sent = key.is_some();
        }
        key
    }

    fn has_certs(&self) -> bool {
        !self.keys.is_empty()
    }
}
