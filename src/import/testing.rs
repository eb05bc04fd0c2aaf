//! What the readers' tests share: one line per fact of an [`Imported`], so that a test
//! compares every registry, mirror, secret and warning at once, and a seeded mutator for
//! fuzzing readers with hostile input.

use std::fmt::Write as _;

use super::error::ImportError;
use super::{CaSource, Imported, ImportedAuth};

/// `Imported` as text: registries in order, their mirrors in order, then secrets' names and
/// owners (never values) and warnings with their lines.
pub(super) fn summary(imported: &Imported) -> String {
    let mut out = String::new();
    for r in &imported.registries {
        let _ = writeln!(
            out,
            "{} fallback={} server={:?} ({})",
            r.name, r.fallback, r.server, r.origin
        );
        for m in &r.mirrors {
            let _ = write!(out, "  {}", m.url);
            if let Some(c) = &m.capabilities {
                let _ = write!(out, " capabilities={c:?}");
            }
            for ca in &m.ca {
                match ca {
                    CaSource::Path(p) => {
                        let _ = write!(out, " ca={p}");
                    }
                    CaSource::Pem(p) => {
                        let _ = write!(out, " ca=pem({} bytes)", p.len());
                    }
                }
            }
            for (cert, key) in &m.client {
                let _ = write!(out, " client={cert}");
                if let Some(key) = key {
                    let _ = write!(out, "+{key}");
                }
            }
            if let Some(v) = m.skip_verify {
                let _ = write!(out, " skip_verify={v}");
            }
            if let Some(v) = m.override_path {
                let _ = write!(out, " override_path={v}");
            }
            for header in &m.headers {
                let name = &header.name;
                let values: Vec<String> = header
                    .values
                    .iter()
                    .map(|v| match v {
                        super::HeaderSource::Inline(text) => text.clone(),
                        super::HeaderSource::Secret(file) => format!("file:{file}"),
                    })
                    .collect();
                let _ = write!(out, " header {name}={values:?}");
            }
            match &m.auth {
                Some(ImportedAuth::Basic {
                    username_file,
                    password_file,
                }) => {
                    let _ = write!(out, " basic={username_file},{password_file}");
                }
                Some(ImportedAuth::Bearer { token_file }) => {
                    let _ = write!(out, " bearer={token_file}");
                }
                None => {}
            }
            out.push('\n');
        }
        for w in &r.not_imported {
            let _ = writeln!(out, "  ! {:?} {}", w.line, w.message);
        }
    }
    for s in &imported.secrets {
        let _ = writeln!(out, "secret {} ({})", s.file_name, s.belongs_to);
    }
    for w in &imported.warnings {
        let _ = writeln!(out, "! {:?} {}", w.line, w.message);
    }
    out
}

/// Feeds `count` mutations of each seed input to `read`; a panic fails the test with the
/// printed seed. Mutations: byte flips, truncation, deletion and duplication of ranges.
pub(super) fn fuzz(seed: u64, count: usize, inputs: &[&str], mut read: impl FnMut(&[u8])) {
    println!("fuzz seed {seed}");
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..count {
        let mut bytes = inputs[i % inputs.len()].as_bytes().to_vec();
        for _ in 0..=(next() % 4) {
            if bytes.is_empty() {
                break;
            }
            let at = (next() as usize) % bytes.len();
            match next() % 5 {
                0 => bytes[at] = next() as u8,
                1 => bytes.truncate(at),
                2 => {
                    let end = (at + (next() as usize) % 16).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 => {
                    let end = (at + (next() as usize) % 32).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
                _ => bytes.insert(at, b"\n:-[]{}\"'=,.*\t #&"[(next() % 17) as usize]),
            }
        }
        read(&bytes);
    }
}

/// Runs a reader on `source` and compares its [`summary`] with `expected`, both shown whole.
#[track_caller]
pub(super) fn check_reader(
    read: fn(&str, &[u8]) -> Result<Imported, ImportError>,
    name: &str,
    source: &str,
    expected: &str,
) {
    let imported = match read(name, source.as_bytes()) {
        Ok(imported) => imported,
        Err(e) => panic!("unexpected error: {e}"),
    };
    let got = summary(&imported);
    assert_eq!(
        got, expected,
        "\n--- got ---\n{got}\n--- expected ---\n{expected}"
    );
}
