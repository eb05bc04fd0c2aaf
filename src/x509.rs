//! X.509 certificates and private keys read from PEM text by a small, exact DER reader: enough
//! to name a certificate, date it, and tell whether a private key belongs to it, the way Go's
//! `crypto/tls` (and so containerd) reads the same files. Nothing here recurses, every length is
//! checked against the input, and a malformed input is a [`Malformed`] value, never a panic.
//! Key material never leaves the key parser: it returns the public half only.

use std::fmt;

/// Why a PEM block is not a certificate or key. The reason never quotes key bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Parsed<T> = Result<T, Malformed>;

fn bad<T>(reason: impl Into<String>) -> Parsed<T> {
    Err(Malformed(reason.into()))
}

/// One `-----BEGIN LABEL-----` … `-----END LABEL-----` block. No `Debug`: the body of a key
/// block is the key.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    /// 1-based line of the BEGIN line.
    pub(crate) line: usize,
    /// RFC 1421 headers were present (`Proc-Type: 4,ENCRYPTED` is one).
    pub(crate) headers: bool,
    pub(crate) encrypted: bool,
    /// The decoded body, or why it could not be decoded.
    pub(crate) der: Parsed<Vec<u8>>,
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored, as Go's `pem.Decode`
/// ignores it (`openssl x509 -text` output before the block is common).
pub(crate) fn pem_blocks(text: &str) -> Vec<PemBlock> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let Some(label) = boundary(line, "BEGIN") else {
            continue;
        };
        let mut body = Vec::new();
        let mut end = false;
        while let Some(&(_, next)) = lines.peek() {
            if boundary(next, "BEGIN").is_some() {
                break;
            }
            lines.next();
            if boundary(next, "END") == Some(label) {
                end = true;
                break;
            }
            body.push(next.trim());
        }
        let (headers, encrypted, base64) = split_headers(&body);
        let der = if end {
            decode_base64(&base64)
        } else {
            bad(format!("the block has no `-----END {label}-----` line"))
        };
        blocks.push(PemBlock {
            label: label.to_string(),
            line: n + 1,
            headers,
            encrypted,
            der,
        });
    }
    blocks
}

/// The label of a `-----BEGIN LABEL-----` (or END) line.
fn boundary<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let line = line.trim_end();
    let rest = line.strip_prefix("-----")?.strip_prefix(word)?;
    let label = rest.strip_prefix(' ')?.strip_suffix("-----")?;
    (!label.is_empty() && !label.contains("-----")).then_some(label)
}

/// RFC 1421 headers (`Name: value` lines up to a blank line) and the base64 text after them.
fn split_headers(body: &[&str]) -> (bool, bool, String) {
    let headers = body.first().is_some_and(|l| l.contains(':'));
    if !headers {
        return (false, false, body.concat());
    }
    let blank = body.iter().position(|l| l.is_empty()).unwrap_or(body.len());
    let encrypted = body[..blank]
        .iter()
        .any(|l| l.starts_with("Proc-Type:") && l.contains("ENCRYPTED"));
    (true, encrypted, body[blank..].concat())
}

/// Standard base64 with padding; whitespace is already gone. Like Go's decoder, unused bits of
/// the last group are not checked.
fn decode_base64(text: &str) -> Parsed<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return bad("the block is empty");
    }
    if !bytes.len().is_multiple_of(4) {
        return bad("the base64 body is not a whole number of 4-character groups");
    }
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let groups = bytes.len() / 4;
    for (g, chunk) in bytes.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && g + 1 != groups) {
            return bad("`=` padding inside the base64 body");
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let Some(v) = value(c) else {
                return bad("a character outside the base64 alphabet in the body");
            };
            n = (n << 6) | v;
        }
        n <<= 6 * pad as u32;
        let [_, a, b, c] = n.to_be_bytes();
        out.extend_from_slice(&[a, b, c][..3 - pad]);
    }
    Ok(out)
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// A cursor over DER: definite, minimal lengths only; each read names what it expected.
struct Der<'a> {
    data: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(data: &'a [u8]) -> Self {
        Der { data }
    }

    fn peek(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// The next element: (tag, contents).
    fn any(&mut self, what: &str) -> Parsed<(u8, &'a [u8])> {
        let [tag, first, ..] = *self.data else {
            return bad(format!("{what}: the data ends early"));
        };
        if tag & 0x1f == 0x1f {
            return bad(format!("{what}: a high-number tag, which X.509 never uses"));
        }
        let (len, header) = match first {
            0..=0x7f => (usize::from(first), 2),
            0x80 => return bad(format!("{what}: an indefinite length (BER, not DER)")),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                let Some(bytes) = self.data.get(2..2 + n) else {
                    return bad(format!("{what}: the length is cut off"));
                };
                if bytes[0] == 0 {
                    return bad(format!("{what}: a length with a leading zero (not DER)"));
                }
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                if len < 0x80 || (n > 1 && len < 1 << (8 * (n - 1))) {
                    return bad(format!(
                        "{what}: a length in a longer form than needed (not DER)"
                    ));
                }
                (len, 2 + n)
            }
            _ => return bad(format!("{what}: a length of more than 4 bytes")),
        };
        let Some(contents) = self.data.get(header..).and_then(|rest| rest.get(..len)) else {
            return bad(format!("{what}: the length runs past the end of the data"));
        };
        self.data = &self.data[header + len..];
        Ok((tag, contents))
    }

    /// The next element, which must have `tag`.
    fn read(&mut self, tag: u8, what: &str) -> Parsed<&'a [u8]> {
        let (found, contents) = self.any(what)?;
        if found != tag {
            return bad(format!(
                "{what}: expected tag 0x{tag:02x}, found 0x{found:02x}"
            ));
        }
        Ok(contents)
    }

    /// The next element if it has `tag`.
    fn optional(&mut self, tag: u8, what: &str) -> Parsed<Option<&'a [u8]>> {
        if self.peek() == Some(tag) {
            self.read(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }

    fn finish(&self, what: &str) -> Parsed<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            bad(format!(
                "{what}: {} unexpected bytes at the end",
                self.data.len()
            ))
        }
    }
}

/// A DER INTEGER that must be ≥ 0, as its big-endian magnitude without leading zeros.
fn unsigned(contents: &[u8], what: &str) -> Parsed<Vec<u8>> {
    match contents {
        [] => bad(format!("{what}: an empty INTEGER")),
        [0, next, ..] if *next < 0x80 => bad(format!(
            "{what}: an INTEGER with a needless leading zero (not DER)"
        )),
        [0xff, next, ..] if *next >= 0x80 => bad(format!(
            "{what}: an INTEGER with a needless leading 0xff (not DER)"
        )),
        [first, ..] if *first >= 0x80 => bad(format!("{what}: a negative INTEGER")),
        _ => {
            let start = contents
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(contents.len());
            Ok(contents[start..].to_vec())
        }
    }
}

/// A small INTEGER (a version number).
fn small(contents: &[u8], what: &str) -> Parsed<u64> {
    let magnitude = unsigned(contents, what)?;
    if magnitude.len() > 8 {
        return bad(format!("{what}: a version number out of range"));
    }
    Ok(magnitude
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// An OBJECT IDENTIFIER in dotted form.
fn oid(contents: &[u8], what: &str) -> Parsed<String> {
    if contents.is_empty() {
        return bad(format!("{what}: an empty OBJECT IDENTIFIER"));
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut value = 0u64;
    let mut fresh = true;
    for &b in contents {
        if fresh && b == 0x80 {
            return bad(format!(
                "{what}: an OBJECT IDENTIFIER arc with a leading 0x80 (not DER)"
            ));
        }
        if value > u64::MAX >> 7 {
            return bad(format!("{what}: an OBJECT IDENTIFIER arc too large"));
        }
        value = (value << 7) | u64::from(b & 0x7f);
        fresh = b & 0x80 == 0;
        if fresh {
            arcs.push(value);
            value = 0;
        }
    }
    if !fresh {
        return bad(format!("{what}: an OBJECT IDENTIFIER cut off mid-arc"));
    }
    let (a, b) = match arcs[0] {
        first @ 0..40 => (0, first),
        first @ 40..80 => (1, first - 40),
        first => (2, first - 80),
    };
    let mut dotted = format!("{a}.{b}");
    for arc in &arcs[1..] {
        dotted.push('.');
        dotted.push_str(&arc.to_string());
    }
    Ok(dotted)
}

/// A BIT STRING that holds whole bytes (every key X.509 carries does).
fn octets_of_bits<'a>(contents: &'a [u8], what: &str) -> Parsed<&'a [u8]> {
    match contents {
        [0, bits @ ..] => Ok(bits),
        [] => bad(format!("{what}: an empty BIT STRING")),
        _ => bad(format!("{what}: a BIT STRING that is not whole bytes")),
    }
}

/// A point in time, to the second, as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Time {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    pub(crate) unix: i64,
}

impl Time {
    /// The calendar date and time of `unix` seconds.
    fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.unix.div_euclid(86_400);
        let secs = self.unix.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let s = secs as u32;
        (year, month, day, s / 3600, s / 60 % 60, s % 60)
    }
}

/// RFC 3339 in UTC: `2026-12-24T10:00:00Z`.
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049, RFC 5280) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn time(tag: u8, contents: &[u8], what: &str) -> Parsed<Time> {
    let form = "not of the form YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ (UTC, whole seconds)";
    let digits = match (tag, contents.len()) {
        (UTC_TIME, 13) => &contents[2..12],
        (GENERALIZED_TIME, 15) => &contents[4..14],
        (UTC_TIME | GENERALIZED_TIME, _) => return bad(format!("{what}: {form}")),
        _ => return bad(format!("{what}: neither UTCTime nor GeneralizedTime")),
    };
    let (last, rest) = contents.split_last().unwrap_or((&0, &[]));
    if *last != b'Z' || !rest.iter().all(u8::is_ascii_digit) {
        return bad(format!("{what}: {form}"));
    }
    let number = |s: &[u8]| {
        s.iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'))
    };
    let year = if tag == UTC_TIME {
        let yy = i64::from(number(&contents[..2]));
        if yy >= 50 { 1900 + yy } else { 2000 + yy }
    } else {
        i64::from(number(&contents[..4]))
    };
    let [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map(|i| number(&digits[i..i + 2]));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return bad(format!("{what}: month {month} does not exist")),
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return bad(format!("{what}: the date or time does not exist"));
    }
    let days = days_from_civil(year, month, day);
    Ok(Time {
        unix: days * 86_400 + i64::from(hour * 3600 + minute * 60 + second),
    })
}

/// A public key, in the form a private key can be compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Rsa {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    /// `curve` is the named curve's OID; `point` is SEC1-encoded (0x04 X Y, or 0x02/0x03 X).
    Ec {
        curve: Option<String>,
        point: Vec<u8>,
    },
    Ed25519(Vec<u8>),
    /// An algorithm this reader does not compare (its OID).
    Other(String),
}

impl PublicKey {
    pub(crate) fn kind(&self) -> String {
        match self {
            PublicKey::Rsa { .. } => "an RSA key".into(),
            PublicKey::Ec { .. } => "an EC key".into(),
            PublicKey::Ed25519(_) => "an Ed25519 key".into(),
            PublicKey::Other(oid) => format!("a key of algorithm {oid}"),
        }
    }
}

const RSA: &str = "1.2.840.113549.1.1.1";
const EC: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
fn rsa_public(bytes: &[u8]) -> Parsed<PublicKey> {
    let mut outer = Der::new(bytes);
    let mut seq = Der::new(outer.read(SEQUENCE, "RSA public key")?);
    outer.finish("RSA public key")?;
    let modulus = unsigned(seq.read(INTEGER, "RSA modulus")?, "RSA modulus")?;
    let exponent = unsigned(seq.read(INTEGER, "RSA exponent")?, "RSA exponent")?;
    seq.finish("RSA public key")?;
    if modulus.is_empty() || exponent.is_empty() {
        return bad("RSA public key: a zero modulus or exponent");
    }
    Ok(PublicKey::Rsa { modulus, exponent })
}

fn ec_point(bytes: &[u8], what: &str) -> Parsed<Vec<u8>> {
    let ok = match bytes {
        [0x04, rest @ ..] => !rest.is_empty() && rest.len().is_multiple_of(2),
        [0x02 | 0x03, rest @ ..] => !rest.is_empty(),
        _ => false,
    };
    if ok {
        Ok(bytes.to_vec())
    } else {
        bad(format!("{what}: not a SEC1 elliptic-curve point"))
    }
}

/// SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }.
fn spki(contents: &[u8]) -> Parsed<PublicKey> {
    let mut info = Der::new(contents);
    let mut algorithm = Der::new(info.read(SEQUENCE, "public key algorithm")?);
    let bits = octets_of_bits(info.read(BIT_STRING, "public key")?, "public key")?;
    info.finish("subjectPublicKeyInfo")?;
    let id = oid(
        algorithm.read(OID, "public key algorithm")?,
        "public key algorithm",
    )?;
    match id.as_str() {
        RSA => rsa_public(bits),
        EC => {
            let curve = oid(algorithm.read(OID, "EC curve")?, "EC curve")?;
            algorithm.finish("EC algorithm parameters")?;
            Ok(PublicKey::Ec {
                curve: Some(curve),
                point: ec_point(bits, "EC public key")?,
            })
        }
        ED25519 if bits.len() == 32 => Ok(PublicKey::Ed25519(bits.to_vec())),
        ED25519 => bad("Ed25519 public key: not 32 bytes"),
        _ => Ok(PublicKey::Other(id)),
    }
}

/// What this reader takes from one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Certificate {
    /// RFC 4514 order, most specific first: `CN=registry, O=Corp, C=DE`.
    pub(crate) subject: String,
    pub(crate) not_before: Time,
    pub(crate) not_after: Time,
    pub(crate) public_key: PublicKey,
}

/// The certificate in a `CERTIFICATE` block. Go's certificate pool skips a block with
/// headers, so that is refused too.
pub(crate) fn certificate_block(block: &PemBlock) -> Parsed<Certificate> {
    if block.headers {
        return bad("PEM headers in a CERTIFICATE block, which Go skips");
    }
    certificate(block.der.as_ref().map_err(Clone::clone)?)
}

/// Parses one DER certificate.
pub(crate) fn certificate(der: &[u8]) -> Parsed<Certificate> {
    let mut outer = Der::new(der);
    let mut cert = Der::new(outer.read(SEQUENCE, "certificate")?);
    outer.finish("certificate")?;
    let mut tbs = Der::new(cert.read(SEQUENCE, "tbsCertificate")?);
    cert.read(SEQUENCE, "signatureAlgorithm")?;
    cert.read(BIT_STRING, "signatureValue")?;
    cert.finish("certificate")?;
    if let Some(version) = tbs.optional(0xa0, "version")? {
        let mut version = Der::new(version);
        let number = small(version.read(INTEGER, "version")?, "version")?;
        version.finish("version")?;
        if number > 2 {
            return bad(format!("version: v{} does not exist", number + 1));
        }
    }
    unsigned_or_negative_serial(tbs.read(INTEGER, "serialNumber")?)?;
    tbs.read(SEQUENCE, "signature")?;
    name(tbs.read(SEQUENCE, "issuer")?, "issuer")?;
    let mut validity = Der::new(tbs.read(SEQUENCE, "validity")?);
    let (tag, contents) = validity.any("notBefore")?;
    let not_before = time(tag, contents, "notBefore")?;
    let (tag, contents) = validity.any("notAfter")?;
    let not_after = time(tag, contents, "notAfter")?;
    validity.finish("validity")?;
    let subject = name(tbs.read(SEQUENCE, "subject")?, "subject")?;
    let public_key = spki(tbs.read(SEQUENCE, "subjectPublicKeyInfo")?)?;
    tbs.optional(0x81, "issuerUniqueID")?;
    tbs.optional(0x82, "subjectUniqueID")?;
    tbs.optional(0xa3, "extensions")?;
    tbs.finish("tbsCertificate")?;
    Ok(Certificate {
        subject,
        not_before,
        not_after,
        public_key,
    })
}

/// Serial numbers are INTEGERs; some CAs wrote negative ones, which Go still reads.
fn unsigned_or_negative_serial(contents: &[u8]) -> Parsed<()> {
    match contents {
        [] => bad("serialNumber: an empty INTEGER"),
        [0, next, ..] if *next < 0x80 => bad("serialNumber: a needless leading zero (not DER)"),
        [0xff, next, ..] if *next >= 0x80 => bad("serialNumber: a needless leading 0xff (not DER)"),
        _ => Ok(()),
    }
}

/// Short names of the attributes certificates commonly carry (RFC 4514 and common use).
fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }, as RFC 4514 text.
fn name(contents: &[u8], what: &str) -> Parsed<String> {
    let mut rdns = Vec::new();
    let mut sequence = Der::new(contents);
    while sequence.peek().is_some() {
        let mut set = Der::new(sequence.read(SET, what)?);
        let mut attributes = Vec::new();
        while set.peek().is_some() {
            let mut pair = Der::new(set.read(SEQUENCE, what)?);
            let id = oid(pair.read(OID, what)?, what)?;
            let (tag, value) = pair.any(what)?;
            pair.finish(what)?;
            let text = match string_value(tag, value) {
                Some(text) => escape(&text),
                None => format!("#{:02x}{}", tag, hex_of_value(value)),
            };
            let key = attribute_name(&id).map_or(id.clone(), str::to_string);
            attributes.push(format!("{key}={text}"));
        }
        if attributes.is_empty() {
            return bad(format!("{what}: an empty relative distinguished name"));
        }
        rdns.push(attributes.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(", "))
}

/// `#` + the DER of an attribute value that is no string; the length is re-encoded.
fn hex_of_value(value: &[u8]) -> String {
    let mut out = String::new();
    der_length(value.len())
        .iter()
        .chain(value)
        .for_each(|b| out.push_str(&format!("{b:02x}")));
    out
}

/// DER's encoding of a length: one byte below 0x80, else `0x80 | n` and the n big-endian bytes.
fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn string_value(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, IA5String, VisibleString.
        0x0c | 0x12 | 0x13 | 0x16 | 0x1a => String::from_utf8(value.to_vec()).ok(),
        // TeletexString, read as Latin-1 like Go does.
        0x14 => Some(value.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        0x1e if value.len().is_multiple_of(2) => {
            let units = value.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        // UniversalString: UTF-32BE.
        0x1c if value.len().is_multiple_of(4) => value
            .chunks(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => None,
    }
}

/// RFC 4514 escaping, and control characters as `\XX` so a subject cannot break a line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// What a private key says about its public half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyPublic {
    Known(PublicKey),
    /// The key is well formed but does not carry what a comparison needs: why.
    Unknown(String),
}

/// The public half of the private key in a PEM block, read as Go's `tls.X509KeyPair` reads it:
/// PKCS#1, then PKCS#8, then SEC1, whatever the label says; the error is the one of the form the
/// label names.
pub(crate) fn private_key(block: &PemBlock) -> Parsed<KeyPublic> {
    if block.encrypted || block.label == "ENCRYPTED PRIVATE KEY" {
        return bad("the key is encrypted; containerd reads unencrypted keys only");
    }
    let der = block.der.as_ref().map_err(Clone::clone)?;
    let attempts = [
        rsa_private(der).map(KeyPublic::Known),
        pkcs8(der),
        sec1(der, None),
    ];
    if let Some(public) = attempts.iter().find_map(|a| a.as_ref().ok()) {
        return Ok(public.clone());
    }
    let [pkcs1, pkcs8, sec1] = attempts;
    match block.label.as_str() {
        "RSA PRIVATE KEY" => pkcs1,
        "EC PRIVATE KEY" => sec1,
        _ => pkcs8,
    }
}

/// RSAPrivateKey (PKCS#1): version, n, e, d, p, q, dp, dq, qinv; multi-prime keys (version 1)
/// are refused, as Go refuses them.
fn rsa_private(der: &[u8]) -> Parsed<PublicKey> {
    let mut outer = Der::new(der);
    let mut seq = Der::new(outer.read(SEQUENCE, "RSA private key")?);
    outer.finish("RSA private key")?;
    let version = small(
        seq.read(INTEGER, "RSA private key version")?,
        "RSA private key version",
    )?;
    if version != 0 {
        return bad("RSA private key: only two-prime keys (version 0) are read");
    }
    let modulus = unsigned(seq.read(INTEGER, "RSA modulus")?, "RSA modulus")?;
    let exponent = unsigned(seq.read(INTEGER, "RSA exponent")?, "RSA exponent")?;
    for part in ["d", "p", "q", "dp", "dq", "qinv"] {
        unsigned(seq.read(INTEGER, "RSA private key")?, "RSA private key")
            .map_err(|_| Malformed(format!("RSA private key: the `{part}` INTEGER is not DER")))?;
    }
    seq.finish("RSA private key")?;
    if modulus.is_empty() || exponent.is_empty() {
        return bad("RSA private key: a zero modulus or exponent");
    }
    Ok(PublicKey::Rsa { modulus, exponent })
}

/// ECPrivateKey (SEC1): version 1, the secret, [0] curve, [1] public point. `curve` is the one
/// PKCS#8 names around it.
fn sec1(der: &[u8], outer_curve: Option<String>) -> Parsed<KeyPublic> {
    let mut outer = Der::new(der);
    let mut seq = Der::new(outer.read(SEQUENCE, "EC private key")?);
    outer.finish("EC private key")?;
    if small(
        seq.read(INTEGER, "EC private key version")?,
        "EC private key version",
    )? != 1
    {
        return bad("EC private key: version is not 1");
    }
    if seq.read(OCTET_STRING, "EC private key")?.is_empty() {
        return bad("EC private key: an empty secret");
    }
    let mut curve = outer_curve;
    if let Some(params) = seq.optional(0xa0, "EC private key parameters")? {
        let mut params = Der::new(params);
        let inner = oid(params.read(OID, "EC curve")?, "EC curve")?;
        params.finish("EC curve")?;
        if curve.as_ref().is_some_and(|c| *c != inner) {
            return bad("EC private key: two different curves named");
        }
        curve = Some(inner);
    }
    let public = match seq.optional(0xa1, "EC public key")? {
        Some(public) => {
            let mut public = Der::new(public);
            let bits = octets_of_bits(public.read(BIT_STRING, "EC public key")?, "EC public key")?;
            public.finish("EC public key")?;
            KeyPublic::Known(PublicKey::Ec {
                curve,
                point: ec_point(bits, "EC public key")?,
            })
        }
        None => KeyPublic::Unknown(
            "the EC key does not carry its public point (SEC1 `publicKey` is absent)".into(),
        ),
    };
    seq.finish("EC private key")?;
    Ok(public)
}

/// PrivateKeyInfo / OneAsymmetricKey (PKCS#8, RFC 5958).
fn pkcs8(der: &[u8]) -> Parsed<KeyPublic> {
    let mut outer = Der::new(der);
    let mut seq = Der::new(outer.read(SEQUENCE, "PKCS#8 key")?);
    outer.finish("PKCS#8 key")?;
    let version = small(seq.read(INTEGER, "PKCS#8 version")?, "PKCS#8 version")?;
    if version > 1 {
        return bad("PKCS#8 key: version is neither 0 nor 1");
    }
    let mut algorithm = Der::new(seq.read(SEQUENCE, "PKCS#8 algorithm")?);
    let id = oid(algorithm.read(OID, "PKCS#8 algorithm")?, "PKCS#8 algorithm")?;
    let inner = seq.read(OCTET_STRING, "PKCS#8 private key")?;
    seq.optional(0xa0, "PKCS#8 attributes")?;
    let public_bits = match seq.optional(0x81, "PKCS#8 public key")? {
        Some(_) if version == 0 => return bad("PKCS#8 key: a public key in a version 0 key"),
        Some(bits) => Some(octets_of_bits(bits, "PKCS#8 public key")?),
        None => None,
    };
    seq.finish("PKCS#8 key")?;
    match id.as_str() {
        RSA => {
            if algorithm.peek() == Some(0x05) {
                algorithm.read(0x05, "RSA parameters")?;
            }
            algorithm.finish("RSA parameters")?;
            rsa_private(inner).map(KeyPublic::Known)
        }
        EC => {
            let curve = oid(algorithm.read(OID, "EC curve")?, "EC curve")?;
            algorithm.finish("EC curve")?;
            sec1(inner, Some(curve))
        }
        ED25519 => {
            algorithm.finish("Ed25519 parameters")?;
            let mut seed = Der::new(inner);
            if seed.read(OCTET_STRING, "Ed25519 private key")?.len() != 32 {
                return bad("Ed25519 private key: not 32 bytes");
            }
            seed.finish("Ed25519 private key")?;
            Ok(match public_bits {
                Some(bits) if bits.len() == 32 => {
                    KeyPublic::Known(PublicKey::Ed25519(bits.to_vec()))
                }
                Some(_) => return bad("Ed25519 public key: not 32 bytes"),
                None => KeyPublic::Unknown(
                    "the Ed25519 key does not carry its public key (PKCS#8 version 1)".into(),
                ),
            })
        }
        other => Ok(KeyPublic::Unknown(format!(
            "keys of algorithm {other} are not compared"
        ))),
    }
}

/// Whether a private key's public half is the certificate's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyMatch {
    Yes,
    /// Why not, as a phrase.
    No(String),
    /// Why it cannot be told.
    Unknown(String),
}

pub(crate) fn key_matches(certificate: &PublicKey, key: &KeyPublic) -> KeyMatch {
    let key = match key {
        KeyPublic::Known(key) => key,
        KeyPublic::Unknown(why) => return KeyMatch::Unknown(why.clone()),
    };
    let same = match (certificate, key) {
        (
            PublicKey::Rsa { modulus, exponent },
            PublicKey::Rsa {
                modulus: m,
                exponent: e,
            },
        ) => modulus == m && exponent == e,
        (PublicKey::Ec { curve, point }, PublicKey::Ec { curve: c, point: p }) => {
            if let (Some(a), Some(b)) = (curve, c)
                && a != b
            {
                return KeyMatch::No("the key is on another elliptic curve".into());
            }
            same_point(point, p)
        }
        (PublicKey::Ed25519(a), PublicKey::Ed25519(b)) => a == b,
        (PublicKey::Other(oid), _) => {
            return KeyMatch::Unknown(format!(
                "certificate keys of algorithm {oid} are not compared"
            ));
        }
        (cert, key) => {
            return KeyMatch::No(format!(
                "the certificate holds {}, the key file {}",
                cert.kind(),
                key.kind()
            ));
        }
    };
    if same {
        KeyMatch::Yes
    } else {
        KeyMatch::No("the key's public half is not the certificate's public key".into())
    }
}

/// SEC1 points compared as points: a compressed point (0x02/0x03 X) is the uncompressed point
/// with the same X whose Y has that parity.
fn same_point(a: &[u8], b: &[u8]) -> bool {
    let split = |p: &[u8]| -> (u8, Vec<u8>, Option<bool>) {
        match p {
            [0x04, rest @ ..] => {
                let (x, y) = rest.split_at(rest.len() / 2);
                (0x04, x.to_vec(), y.last().map(|b| b & 1 == 1))
            }
            [prefix, x @ ..] => (*prefix, x.to_vec(), Some(*prefix == 0x03)),
            [] => (0, Vec::new(), None),
        }
    };
    if a.first() == b.first() {
        return a == b;
    }
    let (_, xa, odd_a) = split(a);
    let (_, xb, odd_b) = split(b);
    xa == xb && odd_a == odd_b
}

#[cfg(test)]
mod tests;
