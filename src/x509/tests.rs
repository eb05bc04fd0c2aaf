//! The DER reader against a real OpenSSL certificate and against DER built here field by field,
//! so each rule (lengths, dates, names, key forms) is pinned by its own case; and a fuzz run
//! with a fixed, printed seed.

use super::*;

const FIXTURE: &str = include_str!("../../fixtures/x509/ec-p256-until-2051.pem");
const P256: &str = "1.2.840.10045.3.1.7";

fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_length(contents.len()));
    out.extend_from_slice(contents);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

fn int(magnitude: &[u8]) -> Vec<u8> {
    let mut bytes = magnitude.to_vec();
    if bytes.first().is_none_or(|&b| b >= 0x80) {
        bytes.insert(0, 0);
    }
    tlv(INTEGER, &bytes)
}

fn oid_of(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("arc")).collect();
    let mut body = Vec::new();
    for arc in std::iter::once(arcs[0] * 40 + arcs[1]).chain(arcs[2..].iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        body.extend(groups.into_iter().rev());
    }
    tlv(OID, &body)
}

fn bits(bytes: &[u8]) -> Vec<u8> {
    let mut contents = vec![0];
    contents.extend_from_slice(bytes);
    tlv(BIT_STRING, &contents)
}

fn name_of(rdns: &[&[(&str, u8, &[u8])]]) -> Vec<u8> {
    let sets: Vec<Vec<u8>> = rdns
        .iter()
        .map(|rdn| {
            let pairs: Vec<Vec<u8>> = rdn
                .iter()
                .map(|(id, tag, value)| seq(&[oid_of(id), tlv(*tag, value)]))
                .collect();
            tlv(SET, &pairs.concat())
        })
        .collect();
    seq(&sets)
}

fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    seq(&[
        seq(&[oid_of(RSA), tlv(0x05, &[])]),
        bits(&seq(&[int(modulus), int(exponent)])),
    ])
}

fn ec_spki(curve: &str, point: &[u8]) -> Vec<u8> {
    seq(&[seq(&[oid_of(EC), oid_of(curve)]), bits(point)])
}

fn utc(text: &str) -> Vec<u8> {
    tlv(UTC_TIME, text.as_bytes())
}

fn generalized(text: &str) -> Vec<u8> {
    tlv(GENERALIZED_TIME, text.as_bytes())
}

/// A v3 certificate with the given validity, subject and key (signature: zero bytes).
fn cert_with(not_before: Vec<u8>, not_after: Vec<u8>, subject: Vec<u8>, spki: Vec<u8>) -> Vec<u8> {
    let algorithm = seq(&[oid_of("1.2.840.113549.1.1.11"), tlv(0x05, &[])]);
    let tbs = seq(&[
        tlv(0xa0, &int(&[2])),
        int(&[0x01, 0x02]),
        algorithm.clone(),
        name_of(&[&[("2.5.4.3", 0x0c, b"issuer")]]),
        seq(&[not_before, not_after]),
        subject,
        spki,
        tlv(0xa3, &seq(&[])),
    ]);
    seq(&[tbs, algorithm, bits(&[0; 8])])
}

fn simple_cert(spki: Vec<u8>) -> Vec<u8> {
    cert_with(
        utc("250101000000Z"),
        utc("351231235959Z"),
        name_of(&[&[("2.5.4.3", 0x0c, b"leaf")]]),
        spki,
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = crate::secrets::base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn block(label: &str, der: &[u8]) -> PemBlock {
    pem_blocks(&pem(label, der)).remove(0)
}

fn pkcs1(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut parts = vec![int(&[0]), int(modulus), int(exponent)];
    parts.extend((1..=6u8).map(|i| int(&[0x40 + i; 9])));
    seq(&parts)
}

fn sec1(curve: Option<&str>, point: Option<&[u8]>) -> Vec<u8> {
    let mut parts = vec![int(&[1]), tlv(OCTET_STRING, &[0x5e; 32])];
    if let Some(curve) = curve {
        parts.push(tlv(0xa0, &oid_of(curve)));
    }
    if let Some(point) = point {
        parts.push(tlv(0xa1, &bits(point)));
    }
    seq(&parts)
}

fn pkcs8(algorithm: Vec<u8>, inner: Vec<u8>, public: Option<&[u8]>) -> Vec<u8> {
    let mut parts = vec![
        int(&[u8::from(public.is_some())]),
        algorithm,
        tlv(OCTET_STRING, &inner),
    ];
    if let Some(public) = public {
        let mut contents = vec![0];
        contents.extend_from_slice(public);
        parts.push(tlv(0x81, &contents));
    }
    seq(&parts)
}

fn point(x: u8, y_last: u8) -> Vec<u8> {
    let mut p = vec![0x04];
    p.extend([x; 32]);
    p.extend([0x11; 31]);
    p.push(y_last);
    p
}

#[track_caller]
fn malformed<T: fmt::Debug>(result: Parsed<T>, reason: &str) {
    match result {
        Err(Malformed(why)) => assert!(why.contains(reason), "{why:?} lacks {reason:?}"),
        Ok(value) => panic!("accepted, expected {reason:?}: {value:?}"),
    }
}

#[test]
fn reads_a_certificate_openssl_wrote() {
    let blocks = pem_blocks(FIXTURE);
    assert_eq!(blocks.len(), 1);
    assert_eq!(
        (blocks[0].label.as_str(), blocks[0].line),
        ("CERTIFICATE", 1)
    );
    let cert = certificate_block(&blocks[0]).expect("parses");
    assert_eq!(
        cert.subject,
        "CN=mirror.corp.example, OU=Platform, O=Corp, C=DE"
    );
    // notBefore is a UTCTime on a leap day, notAfter a GeneralizedTime (2050 and later).
    assert_eq!(cert.not_before.unix, 1_582_979_696);
    assert_eq!(cert.not_before.to_string(), "2020-02-29T12:34:56Z");
    assert_eq!(cert.not_after.unix, 2_556_144_000);
    assert_eq!(cert.not_after.to_string(), "2051-01-01T00:00:00Z");
    let PublicKey::Ec { curve, point } = &cert.public_key else {
        panic!("{:?}", cert.public_key);
    };
    assert_eq!(curve.as_deref(), Some(P256));
    assert_eq!(point.len(), 65);
    assert_eq!(&point[..4], &[0x04, 0x48, 0x13, 0x10]);
}

#[test]
fn times_in_both_forms_and_their_limits() {
    let at = |tag, text: &str| time(tag, text.as_bytes(), "t").map(|t| (t.unix, t.to_string()));
    for (tag, text, unix, shown) in [
        (
            UTC_TIME,
            "500101000000Z",
            -631_152_000,
            "1950-01-01T00:00:00Z",
        ),
        (
            UTC_TIME,
            "491231235959Z",
            2_524_607_999,
            "2049-12-31T23:59:59Z",
        ),
        (UTC_TIME, "691231235959Z", -1, "1969-12-31T23:59:59Z"),
        (
            UTC_TIME,
            "000229000000Z",
            951_782_400,
            "2000-02-29T00:00:00Z",
        ),
        (
            GENERALIZED_TIME,
            "99991231235959Z",
            253_402_300_799,
            "9999-12-31T23:59:59Z",
        ),
        (
            GENERALIZED_TIME,
            "00010101000000Z",
            -62_135_596_800,
            "0001-01-01T00:00:00Z",
        ),
        (
            GENERALIZED_TIME,
            "20261224100000Z",
            1_798_106_400,
            "2026-12-24T10:00:00Z",
        ),
    ] {
        assert_eq!(at(tag, text), Ok((unix, shown.to_string())), "{text}");
    }
    for (tag, text, reason) in [
        (GENERALIZED_TIME, "21000229000000Z", "does not exist"),
        (GENERALIZED_TIME, "20210230000000Z", "does not exist"),
        (UTC_TIME, "211301000000Z", "month 13"),
        (UTC_TIME, "210101240000Z", "does not exist"),
        (UTC_TIME, "210101006000Z", "does not exist"),
        (UTC_TIME, "210101000060Z", "does not exist"),
        (UTC_TIME, "2101010000Z", "not of the form"),
        (UTC_TIME, "210101000000+0100", "not of the form"),
        (GENERALIZED_TIME, "20210101000000.5Z", "not of the form"),
        (GENERALIZED_TIME, "2021010100000aZ", "not of the form"),
        (UTC_TIME, "20210101000000Z", "not of the form"),
        (0x13, "210101000000Z", "neither UTCTime"),
    ] {
        malformed(time(tag, text.as_bytes(), "t"), reason);
    }
}

#[test]
fn der_is_read_exactly() {
    let good = simple_cert(rsa_spki(&[0xc5; 64], &[1, 0, 1]));
    assert!(certificate(&good).is_ok());
    let mut trailing = good.clone();
    trailing.push(0);
    malformed(certificate(&trailing), "unexpected bytes at the end");
    malformed(certificate(&good[..good.len() - 1]), "past the end");
    malformed(certificate(&[0x30, 0x80, 0, 0]), "indefinite length");
    malformed(
        certificate(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]),
        "longer form than needed",
    );
    malformed(certificate(&[0x30, 0x82, 0x00, 0x90]), "leading zero");
    malformed(
        certificate(&[0x30, 0x85, 1, 1, 1, 1, 1]),
        "more than 4 bytes",
    );
    malformed(certificate(&[0x3f, 0x01, 0x00]), "high-number tag");
    malformed(certificate(&[0x30]), "ends early");
    malformed(certificate(&[]), "ends early");
    malformed(certificate(&tlv(SET, &[])), "expected tag 0x30");
    // An INTEGER with a needless leading zero, and a negative modulus.
    let padded = seq(&[
        seq(&[oid_of(RSA), tlv(0x05, &[])]),
        bits(&seq(&[tlv(INTEGER, &[0, 0x01]), int(&[3])])),
    ]);
    malformed(certificate(&simple_cert(padded)), "needless leading zero");
    let negative = seq(&[
        seq(&[oid_of(RSA), tlv(0x05, &[])]),
        bits(&seq(&[tlv(INTEGER, &[0x80, 0x01]), int(&[3])])),
    ]);
    malformed(certificate(&simple_cert(negative)), "negative INTEGER");
    let v4 = {
        let mut cert = good.clone();
        let at = cert
            .windows(5)
            .position(|w| w == [0xa0, 3, 2, 1, 2])
            .expect("version");
        cert[at + 4] = 3;
        cert
    };
    malformed(certificate(&v4), "v4 does not exist");
    malformed(
        certificate(&simple_cert(ec_spki(P256, &[0x05, 1, 2]))),
        "not a SEC1",
    );
}

#[test]
fn subjects_are_rfc_4514_text() {
    let subject = |rdns: &[&[(&str, u8, &[u8])]]| {
        certificate(&cert_with(
            utc("250101000000Z"),
            generalized("20260101000000Z"),
            name_of(rdns),
            rsa_spki(&[0xc5; 16], &[3]),
        ))
        .map(|c| c.subject)
    };
    assert_eq!(
        subject(&[
            &[("2.5.4.6", 0x13, b"DE")],
            &[("2.5.4.10", 0x0c, b"Corp, Inc")],
            &[("2.5.4.11", 0x0c, b"a"), ("2.5.4.11", 0x0c, b"b")],
            &[("2.5.4.3", 0x0c, "mirror ✓".as_bytes())],
        ]),
        Ok("CN=mirror ✓, OU=a+OU=b, O=Corp\\, Inc, C=DE".to_string())
    );
    assert_eq!(
        subject(&[
            &[("0.9.2342.19200300.100.1.25", 0x16, b"example")],
            &[("1.2.3.4", 0x02, &[5])]
        ]),
        Ok("1.2.3.4=#020105, DC=example".to_string())
    );
    assert_eq!(
        subject(&[
            &[("2.5.4.3", 0x1e, &[0, b'h', 0, b'i'])],
            &[("2.5.4.3", 0x14, &[0xe9])]
        ]),
        Ok("CN=é, CN=hi".to_string()),
        "BMPString and TeletexString (Latin-1)"
    );
    assert_eq!(
        subject(&[
            &[("2.5.4.3", 0x0c, b"evil\nline")],
            &[("2.5.4.3", 0x0c, b"#x ")]
        ]),
        Ok("CN=\\#x\\ , CN=evil\\0Aline".to_string()),
        "no control character reaches a message"
    );
    assert_eq!(subject(&[]), Ok(String::new()));
    malformed(subject(&[&[]]), "empty relative distinguished name");
}

#[test]
fn pem_blocks_like_go_reads_them() {
    let der = simple_cert(rsa_spki(&[0xc5; 16], &[3]));
    let text = format!(
        "Certificate:\n    Data: openssl's -text output\n{}\n{}-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n",
        pem("CERTIFICATE", &der),
        pem("CERTIFICATE", &der)
    );
    let blocks = pem_blocks(&text);
    let labels: Vec<(&str, usize)> = blocks.iter().map(|b| (b.label.as_str(), b.line)).collect();
    assert_eq!(
        labels,
        [
            ("CERTIFICATE", 3),
            ("CERTIFICATE", 10),
            ("TRUSTED CERTIFICATE", 16)
        ]
    );
    assert!(blocks.iter().all(|b| b.der.is_ok()));
    let broken = |body: &str| {
        pem_blocks(&format!(
            "-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
        ))
        .remove(0)
        .der
    };
    malformed(broken("AAA"), "4-character groups");
    malformed(broken("AA==AAAA"), "padding inside");
    malformed(broken("AA=A"), "alphabet");
    malformed(broken("AA*A"), "alphabet");
    malformed(broken(""), "empty");
    assert_eq!(broken("AAE=\r\n"), Ok(vec![0, 1]));
    let unterminated = pem_blocks("-----BEGIN CERTIFICATE-----\nAAAA\n-----END X-----\n");
    malformed(
        unterminated[0].der.clone(),
        "no `-----END CERTIFICATE-----` line",
    );
    let restarted = pem_blocks(&format!(
        "-----BEGIN CERTIFICATE-----\nAAAA\n{}",
        pem("CERTIFICATE", &der)
    ));
    assert_eq!(
        restarted.len(),
        2,
        "a BEGIN inside a block starts the next one"
    );
    assert!(restarted[1].der.is_ok());
    let headers = pem_blocks(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    );
    assert!(headers[0].headers && headers[0].encrypted);
    malformed(private_key(&headers[0]), "encrypted");
    let with_headers =
        pem_blocks("-----BEGIN CERTIFICATE-----\nX: y\n\nAAAA\n-----END CERTIFICATE-----\n");
    malformed(certificate_block(&with_headers[0]), "PEM headers");
}

#[test]
fn rsa_keys_in_every_form_against_their_certificate() {
    let modulus = [0xc5; 128];
    let cert = certificate(&simple_cert(rsa_spki(&modulus, &[1, 0, 1]))).expect("cert");
    let rsa_algorithm = seq(&[oid_of(RSA), tlv(0x05, &[])]);
    for (label, der) in [
        ("RSA PRIVATE KEY", pkcs1(&modulus, &[1, 0, 1])),
        (
            "PRIVATE KEY",
            pkcs8(rsa_algorithm.clone(), pkcs1(&modulus, &[1, 0, 1]), None),
        ),
        // Go tries every form whatever the label says.
        ("PRIVATE KEY", pkcs1(&modulus, &[1, 0, 1])),
        (
            "RSA PRIVATE KEY",
            pkcs8(rsa_algorithm.clone(), pkcs1(&modulus, &[1, 0, 1]), None),
        ),
    ] {
        let public = private_key(&block(label, &der)).expect("key");
        assert_eq!(
            key_matches(&cert.public_key, &public),
            KeyMatch::Yes,
            "{label}"
        );
    }
    let mut other = modulus;
    other[127] = 0xc7;
    let public = private_key(&block("RSA PRIVATE KEY", &pkcs1(&other, &[1, 0, 1]))).expect("key");
    assert!(matches!(
        key_matches(&cert.public_key, &public),
        KeyMatch::No(_)
    ));
    let public = private_key(&block("RSA PRIVATE KEY", &pkcs1(&modulus, &[3]))).expect("key");
    assert!(
        matches!(key_matches(&cert.public_key, &public), KeyMatch::No(_)),
        "the exponent counts"
    );
    let ec = private_key(&block(
        "EC PRIVATE KEY",
        &sec1(Some(P256), Some(&point(1, 2))),
    ))
    .expect("key");
    assert_eq!(
        key_matches(&cert.public_key, &ec),
        KeyMatch::No("the certificate holds an RSA key, the key file an EC key".into())
    );
    let mut multi = pkcs1(&modulus, &[3]);
    let at = multi
        .windows(3)
        .position(|w| w == [2, 1, 0])
        .expect("version");
    multi[at + 2] = 1;
    malformed(private_key(&block("RSA PRIVATE KEY", &multi)), "two-prime");
    malformed(
        private_key(&block("RSA PRIVATE KEY", &seq(&[int(&[0]), int(&modulus)]))),
        "ends early",
    );
    malformed(
        private_key(&block("ENCRYPTED PRIVATE KEY", &[0x30, 0])),
        "encrypted",
    );
    malformed(private_key(&block("PRIVATE KEY", &[0x30, 0])), "PKCS#8");
}

#[test]
fn ec_keys_with_and_without_their_point() {
    let cert = certificate(&simple_cert(ec_spki(P256, &point(7, 0x20)))).expect("cert");
    let ec_algorithm = seq(&[oid_of(EC), oid_of(P256)]);
    let check = |label: &str, der: Vec<u8>| {
        key_matches(
            &cert.public_key,
            &private_key(&block(label, &der)).expect("key"),
        )
    };
    assert_eq!(
        check("EC PRIVATE KEY", sec1(Some(P256), Some(&point(7, 0x20)))),
        KeyMatch::Yes
    );
    assert_eq!(
        check("EC PRIVATE KEY", sec1(None, Some(&point(7, 0x20)))),
        KeyMatch::Yes
    );
    assert_eq!(
        check(
            "PRIVATE KEY",
            pkcs8(
                ec_algorithm.clone(),
                sec1(None, Some(&point(7, 0x20))),
                None
            )
        ),
        KeyMatch::Yes
    );
    // A compressed point is the same point when X and the parity of Y agree.
    let mut even = vec![0x02];
    even.extend([7; 32]);
    assert_eq!(
        check("EC PRIVATE KEY", sec1(None, Some(&even))),
        KeyMatch::Yes
    );
    even[0] = 0x03;
    assert!(matches!(
        check("EC PRIVATE KEY", sec1(None, Some(&even))),
        KeyMatch::No(_)
    ));
    assert!(matches!(
        check("EC PRIVATE KEY", sec1(None, Some(&point(8, 0x20)))),
        KeyMatch::No(_)
    ));
    assert_eq!(
        check(
            "EC PRIVATE KEY",
            sec1(Some("1.3.132.0.34"), Some(&point(7, 0x20)))
        ),
        KeyMatch::No("the key is on another elliptic curve".into())
    );
    assert!(matches!(
        check("EC PRIVATE KEY", sec1(Some(P256), None)),
        KeyMatch::Unknown(_)
    ));
    malformed(
        private_key(&block(
            "PRIVATE KEY",
            &pkcs8(ec_algorithm, sec1(Some("1.3.132.0.34"), None), None),
        )),
        "two different curves",
    );
}

#[test]
fn ed25519_keys_are_checked_when_they_carry_the_public_key() {
    let public = [0x42; 32];
    let spki = seq(&[seq(&[oid_of(ED25519)]), bits(&public)]);
    let cert = certificate(&simple_cert(spki)).expect("cert");
    let algorithm = seq(&[oid_of(ED25519)]);
    let seed = tlv(OCTET_STRING, &[0x5e; 32]);
    let check = |der: Vec<u8>| {
        key_matches(
            &cert.public_key,
            &private_key(&block("PRIVATE KEY", &der)).expect("key"),
        )
    };
    assert_eq!(
        check(pkcs8(algorithm.clone(), seed.clone(), Some(&public))),
        KeyMatch::Yes
    );
    assert!(matches!(
        check(pkcs8(algorithm.clone(), seed.clone(), Some(&[0x43; 32]))),
        KeyMatch::No(_)
    ));
    assert!(matches!(
        check(pkcs8(algorithm, seed, None)),
        KeyMatch::Unknown(_)
    ));
}

#[test]
fn errors_never_quote_key_bytes() {
    let mut der = pkcs1(&[0xc5; 64], &[3]);
    let len = der.len();
    der[len - 3] = 0xff;
    der.truncate(len - 1);
    for label in ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"] {
        let Err(Malformed(why)) = private_key(&block(label, &der)) else {
            panic!("{label}: accepted");
        };
        assert!(
            why.is_ascii() && !why.contains("c5c5") && !why.contains("4141"),
            "{why}"
        );
    }
}

/// xorshift64*: deterministic, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len());
        match rng.below(6) {
            0 if !out.is_empty() => out[at] ^= 1 << rng.below(8),
            1 if !out.is_empty() => out[at] = rng.next() as u8,
            2 => out.truncate(at),
            3 => out.insert(at, rng.next() as u8),
            4 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            _ if !out.is_empty() => {
                let end = (at + rng.below(8)).min(out.len());
                out.drain(at..end);
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out
}

#[test]
fn fuzz_never_panics() {
    let seed = std::env::var("MIRRORCTL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1405_u64);
    println!("x509 fuzz seed: {seed} (replay with MIRRORCTL_FUZZ_SEED={seed})");
    let mut rng = Rng(seed | 1);
    let real = pem_blocks(FIXTURE).remove(0).der.expect("fixture");
    let modulus = [0xc5; 64];
    let corpus: Vec<(&str, Vec<u8>)> = vec![
        ("CERTIFICATE", real.clone()),
        ("CERTIFICATE", simple_cert(rsa_spki(&modulus, &[1, 0, 1]))),
        ("RSA PRIVATE KEY", pkcs1(&modulus, &[1, 0, 1])),
        ("EC PRIVATE KEY", sec1(Some(P256), Some(&point(7, 0x20)))),
        (
            "PRIVATE KEY",
            pkcs8(
                seq(&[oid_of(EC), oid_of(P256)]),
                sec1(None, Some(&point(7, 1))),
                None,
            ),
        ),
        (
            "PRIVATE KEY",
            pkcs8(
                seq(&[oid_of(ED25519)]),
                tlv(OCTET_STRING, &[1; 32]),
                Some(&[2; 32]),
            ),
        ),
    ];
    let scale: usize = std::env::var("MIRRORCTL_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut parsed = 0;
    for round in 0..4000 * scale {
        let (label, base) = &corpus[round % corpus.len()];
        let der = if round % 10 == 9 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, base)
        };
        let text = pem(label, &der);
        for block in pem_blocks(&text) {
            if block.label == "CERTIFICATE" {
                if let Ok(cert) = certificate_block(&block) {
                    parsed += 1;
                    let _ = cert.not_after.to_string();
                }
            } else if let Ok(public) = private_key(&block) {
                parsed += 1;
                let _ = key_matches(&PublicKey::Other("x".into()), &public);
            }
        }
        // Mutated PEM text as well: boundaries, headers and base64 cut anywhere.
        let bytes = mutate(&mut rng, text.as_bytes());
        for block in pem_blocks(&String::from_utf8_lossy(&bytes)) {
            let _ = (
                certificate_block(&block).is_ok(),
                private_key(&block).is_ok(),
            );
        }
    }
    assert!(parsed > 0, "some mutations keep the input valid");
}
