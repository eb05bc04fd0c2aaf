//! Property tests over the inventory loader and the renderer: arbitrary bytes, mutated
//! inventories and generated ones never panic or hang, and every inventory the loader accepts
//! renders hosts.toml files that the `toml` crate reads back and a CredentialProviderConfig that
//! a YAML (or JSON) parser reads back, holding exactly the values the inventory holds.
//!
//! Self-contained: a seeded PRNG instead of a fuzzing dependency, and a bounded number of cases
//! (a few seconds in CI). Every failure prints the seed and the input; `MIRRORCTL_FUZZ_SEED=N`
//! replays a run and `MIRRORCTL_FUZZ_SCALE=K` runs K times as many cases for a longer search.

use std::collections::BTreeSet;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mirrorctl::inventory::{self, Auth, ClientCert, Inventory, Mirror};
use mirrorctl::render::{self, DesiredState, FileKind};
use mirrorctl::secrets::Secrets;

use crate::support::{self, BIN};

/// SplitMix64: tiny and fast, and good enough to spread test cases; same seed, same cases.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// This run's seed: `$var` when set (to replay a failure), else fresh from the clock. Printed
/// first, so that every failure can be replayed.
pub fn seed(var: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
    eprintln!("seed: {var}={seed} (set it to replay this run)");
    seed
}

fn scale() -> usize {
    std::env::var("MIRRORCTL_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Longest one case may take (debug build, a loaded CI machine) before it counts as a hang.
const CASE_LIMIT: Duration = Duration::from_secs(10);

type Generator = fn(&mut Rng, &[Vec<u8>]) -> Vec<u8>;

enum Progress {
    Started(Vec<u8>),
    Done { accepted: bool, took: Duration },
    Panicked(String),
}

#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    accepted: usize,
    slowest: Duration,
}

/// Feeds `cases` inputs from `generate` through [`check`] on a worker thread, and fails with the
/// seed, the case number and the input when one panics or takes longer than [`CASE_LIMIT`].
fn run_cases(
    name: &str,
    seed: u64,
    cases: usize,
    corpus: Vec<Vec<u8>>,
    generate: Generator,
) -> Tally {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut rng = Rng::new(seed);
        for _ in 0..cases {
            let input = generate(&mut rng, &corpus);
            if tx.send(Progress::Started(input.clone())).is_err() {
                return;
            }
            let started = Instant::now();
            let message = match panic::catch_unwind(AssertUnwindSafe(|| check(&input))) {
                Ok(accepted) => Progress::Done {
                    accepted,
                    took: started.elapsed(),
                },
                Err(payload) => Progress::Panicked(
                    payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "a non-string panic".into()),
                ),
            };
            let stop = matches!(message, Progress::Panicked(_));
            if tx.send(message).is_err() || stop {
                return;
            }
        }
    });
    let mut tally = Tally::default();
    let mut current = Vec::new();
    let started = Instant::now();
    loop {
        match rx.recv_timeout(CASE_LIMIT) {
            Ok(Progress::Started(input)) => current = input,
            Ok(Progress::Done { accepted, took }) => {
                tally.cases += 1;
                tally.accepted += usize::from(accepted);
                tally.slowest = tally.slowest.max(took);
            }
            Ok(Progress::Panicked(message)) => panic!(
                "{name}: case {} (seed {seed}) broke a property or panicked: {message}\n--- input ({} bytes):\n{}",
                tally.cases,
                current.len(),
                shown(&current)
            ),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{name}: case {} (seed {seed}) ran longer than {CASE_LIMIT:?}: a hang\n--- input ({} bytes):\n{}",
                tally.cases,
                current.len(),
                shown(&current)
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    assert_eq!(tally.cases, cases, "{name}: the worker stopped early");
    eprintln!(
        "{name}: {} cases, {} accepted, slowest {:?}, {:?} in all",
        tally.cases,
        tally.accepted,
        tally.slowest,
        started.elapsed()
    );
    tally
}

/// An input as Rust would write it, cut short when long.
fn shown(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(&input[..input.len().min(4000)]);
    format!("{text:?}{}", if input.len() > 4000 { " …" } else { "" })
}

// ---------------------------------------------------------------------------------------------
// The properties.

/// Loads `bytes`; when the loader accepts them, checks every rendered file. Returns whether the
/// inventory was accepted. Panics (caught by [`run_cases`]) when a property does not hold.
fn check(bytes: &[u8]) -> bool {
    let inventory = match inventory::load_bytes("fuzz.yaml", bytes) {
        Ok(inventory) => inventory,
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains("fuzz.yaml"),
                "an inventory error names the file: {message}"
            );
            return false;
        }
    };
    // Every apply lints before it renders: a panic there is a crash of apply.
    let _ = mirrorctl::lint::warnings(&inventory);
    let secrets = Secrets::placeholders(&inventory);
    let desired = render::render(&inventory, &secrets);
    let again = render::render(&inventory, &secrets);
    assert!(
        desired
            .files
            .iter()
            .map(|(p, f)| (p, &f.contents, f.mode))
            .eq(again.files.iter().map(|(p, f)| (p, &f.contents, f.mode))),
        "rendering is deterministic"
    );
    for (path, file) in &desired.files {
        assert!(path.starts_with('/'), "{path}: node paths are absolute");
        assert_eq!(file.mode & !0o777, 0, "{path}: mode {:o}", file.mode);
        if file.secret {
            assert_eq!(file.mode, 0o600, "{path}: a file with a secret is 0600");
        }
    }
    hosts_toml_round_trip(&inventory, &desired);
    credential_provider_config_round_trip(&inventory, &desired);
    true
}

fn hosts_toml_round_trip(inventory: &Inventory, desired: &DesiredState) {
    let count = desired
        .files
        .values()
        .filter(|f| f.kind == FileKind::HostsToml)
        .count();
    assert_eq!(
        count,
        inventory.registries.len(),
        "one hosts.toml per registry: {:?}",
        desired.files.keys().collect::<Vec<_>>()
    );
    for registry in &inventory.registries {
        let path = format!(
            "{}/{}/hosts.toml",
            inventory.paths.certs_dir,
            registry.dir_name()
        );
        let file = desired
            .files
            .get(&path)
            .unwrap_or_else(|| panic!("{path}: not rendered"));
        let text = std::str::from_utf8(&file.contents).expect("hosts.toml is UTF-8");
        let doc: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{path} does not parse as TOML: {e}\n{text}"));
        let hosts = doc
            .get("host")
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("{path}: no [host] table\n{text}"));

        let mut endpoints: Vec<&Mirror> = registry.mirrors.iter().collect();
        if !registry.fallback {
            let last = endpoints.last().copied().expect("a mirror");
            assert_eq!(
                doc.get("server").and_then(toml::Value::as_str),
                Some(last.url.value.as_str()),
                "{path}: fallback: false makes the last mirror the server\n{text}"
            );
            endpoint_round_trip(&path, &doc, last, text);
            if endpoints.len() > 1 {
                endpoints.pop();
            }
        } else if let Some(server) = &registry.server {
            assert_eq!(
                doc.get("server").and_then(toml::Value::as_str),
                Some(server.value.as_str()),
                "{path}: server\n{text}"
            );
        }
        let written: BTreeSet<&str> = hosts.keys().map(String::as_str).collect();
        let wanted: BTreeSet<&str> = endpoints.iter().map(|m| m.url.value.as_str()).collect();
        assert_eq!(written, wanted, "{path}: [host] tables\n{text}");
        // A URL listed twice is written once; the later mirror's settings are the ones kept.
        for mirror in endpoints.iter().rev() {
            let url = mirror.url.value.as_str();
            if endpoints
                .iter()
                .rev()
                .find(|m| m.url.value == url)
                .is_some_and(|m| std::ptr::eq(*m, *mirror))
            {
                let table = hosts[url].as_table().expect("a host is a table");
                endpoint_round_trip(&path, table, mirror, text);
            }
        }
    }
}

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    fn collect(value: &toml::Value, out: &mut Vec<String>) {
        match value {
            toml::Value::String(s) => out.push(s.clone()),
            toml::Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            other => panic!("expected strings, found {other:?}"),
        }
    }
    let mut out = Vec::new();
    if let Some(value) = value {
        collect(value, &mut out);
    }
    out
}

/// One `[host."…"]` table (or the top level, for a server) holds the mirror's values.
fn endpoint_round_trip(path: &str, table: &toml::Table, mirror: &Mirror, text: &str) {
    let caps = table
        .get("capabilities")
        .and_then(toml::Value::as_array)
        .unwrap_or_else(|| panic!("{path}: capabilities\n{text}"));
    assert!(
        !caps.is_empty(),
        "{path}: never capabilities = [] (containerd then uses none)\n{text}"
    );
    let wanted_caps: Vec<String> = match &mirror.capabilities {
        Some(caps) => caps.value.iter().map(|c| c.value.to_lowercase()).collect(),
        None => vec!["pull".into(), "resolve".into()],
    };
    assert_eq!(
        strings(table.get("capabilities")),
        wanted_caps,
        "{path}: capabilities\n{text}"
    );
    let ca: Vec<String> = mirror.ca.iter().map(|c| c.value.clone()).collect();
    assert_eq!(strings(table.get("ca")), ca, "{path}: ca\n{text}");
    let client: Vec<String> = mirror
        .client
        .iter()
        .flat_map(|c| match c {
            ClientCert::Combined(file) => vec![file.value.clone()],
            ClientCert::Pair { cert, key } => vec![cert.value.clone(), key.value.clone()],
        })
        .collect();
    assert_eq!(strings(table.get("client")), client, "{path}: client\n{text}");
    if let Some(skip) = mirror.skip_verify {
        assert_eq!(
            table.get("skip_verify").and_then(toml::Value::as_bool),
            Some(skip),
            "{path}: skip_verify\n{text}"
        );
    }
    if let Some(timeout) = &mirror.dial_timeout {
        assert_eq!(
            table.get("dial_timeout").and_then(toml::Value::as_str),
            Some(timeout.value.as_str()),
            "{path}: dial_timeout\n{text}"
        );
    }
    let headers = table.get("header").and_then(toml::Value::as_table);
    for header in &mirror.headers {
        let written = headers.and_then(|h| h.get(&header.name.value));
        let expected = if header.list {
            toml::Value::Array(
                header
                    .values
                    .iter()
                    .map(|v| toml::Value::String(v.clone()))
                    .collect(),
            )
        } else {
            toml::Value::String(header.values.first().cloned().unwrap_or_default())
        };
        assert_eq!(
            written,
            Some(&expected),
            "{path}: header {:?}\n{text}",
            header.name.value
        );
    }
    if let Some(Auth::BasicFrom { .. }) = &mirror.auth {
        let authorization = headers
            .and_then(|h| h.get("Authorization"))
            .and_then(toml::Value::as_str)
            .unwrap_or_default();
        assert!(
            authorization.starts_with("Basic "),
            "{path}: basicFrom renders an Authorization header\n{text}"
        );
    }
}

/// YAML 1.2 §5.1: a YAML stream holds only printable characters. The kubelet's YAML reader
/// (go-yaml) refuses any other with "control characters are not allowed", and yaml-rust2 is
/// more lenient than that, so this is checked on the text itself.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> serde_json::Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::String(s) => serde_json::Value::String(s.clone()),
        Yaml::Boolean(b) => serde_json::Value::Bool(*b),
        Yaml::Array(items) => serde_json::Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let Yaml::String(key) = k else {
                        panic!("a key read back as {k:?}")
                    };
                    (key.clone(), yaml_to_json(v))
                })
                .collect(),
        ),
        other => panic!("a value read back as {other:?}: every value must stay a string or a bool"),
    }
}

fn credential_provider_config_round_trip(inventory: &Inventory, desired: &DesiredState) {
    let path = &inventory.paths.credential_provider_config;
    let Some(file) = desired
        .files
        .values()
        .find(|f| f.kind == FileKind::CredentialProviderConfig)
    else {
        assert!(
            inventory.credential_providers.is_empty(),
            "providers but no CredentialProviderConfig"
        );
        return;
    };
    assert!(
        desired.files.get(path) == Some(file),
        "{path}: the config is where paths.credentialProviderConfig says"
    );
    let text = std::str::from_utf8(&file.contents).expect("the config is UTF-8");
    let value: serde_json::Value = if path.ends_with(".json") {
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{path} does not parse as JSON: {e}\n{text}"))
    } else {
        if let Some(bad) = text.chars().find(|&c| !yaml_printable(c)) {
            panic!("{path}: {bad:?} is not allowed in a YAML stream\n{text:?}");
        }
        let docs = yaml_rust2::YamlLoader::load_from_str(text)
            .unwrap_or_else(|e| panic!("{path} does not parse as YAML: {e}\n{text}"));
        assert_eq!(docs.len(), 1, "{path}: one YAML document\n{text}");
        yaml_to_json(&docs[0])
    };
    assert_eq!(
        value["kind"], "CredentialProviderConfig",
        "{path}: kind\n{text}"
    );
    assert!(
        value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("kubelet.config.k8s.io/")),
        "{path}: apiVersion\n{text}"
    );
    let providers = value["providers"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: providers\n{text}"));
    assert_eq!(
        providers.len(),
        inventory.credential_providers.len(),
        "{path}: providers\n{text}"
    );
    for (want, got) in inventory.credential_providers.iter().zip(providers) {
        let list = |items: Vec<String>| -> serde_json::Value { items.into() };
        assert_eq!(got["name"], want.name.value.as_str(), "{path}: name\n{text}");
        assert_eq!(
            got["matchImages"],
            list(want.match_images.iter().map(|m| m.value.clone()).collect()),
            "{path}: matchImages\n{text}"
        );
        assert_eq!(
            got["defaultCacheDuration"],
            want.default_cache_duration.value.as_str(),
            "{path}: defaultCacheDuration\n{text}"
        );
        if want.args.is_empty() {
            assert!(got.get("args").is_none(), "{path}: no args\n{text}");
        } else {
            assert_eq!(got["args"], list(want.args.clone()), "{path}: args\n{text}");
        }
        let env: Vec<(String, String)> = got
            .get("env")
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|e| {
                        (
                            e["name"].as_str().unwrap_or_default().to_string(),
                            e["value"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(env, want.env, "{path}: env\n{text}");
        if let Some(attrs) = &want.token_attributes {
            let got = &got["tokenAttributes"];
            if let Some(audience) = &attrs.service_account_token_audience {
                assert_eq!(
                    got["serviceAccountTokenAudience"],
                    audience.value.as_str(),
                    "{path}: serviceAccountTokenAudience\n{text}"
                );
            }
            if let Some(required) = attrs.require_service_account {
                assert_eq!(
                    got["requireServiceAccount"], required,
                    "{path}: requireServiceAccount\n{text}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generators.

/// Pieces of text that have broken parsers and emitters before: quotes, escapes, YAML
/// indicators, non-ASCII, the characters YAML and TOML treat specially, controls.
const FRAGMENTS: &[&str] = &[
    "a", "x", "9", "-", "_", ".", "/", "ü", "日本", "😀", "\"", "'", "\\", "\\\"", "#", " #",
    ":", ": ", "- ", "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "?", " ",
    "\t", "\n", "\r", "\u{7f}", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}", "\u{200b}",
    "\u{fffd}", "\u{1}", "\u{1b}", "${HOME}", "$(id)", "true", "null", "~", "0x1F", "1e3",
    ".inf", "<<", "=", "+", "%20", "\u{e000}", "\u{10ffff}",
];

fn text(rng: &mut Rng, parts: usize) -> String {
    let mut out = String::new();
    for _ in 0..=rng.below(parts) {
        if rng.one_in(2) {
            out.push_str(*rng.pick(FRAGMENTS));
        } else {
            for _ in 0..=rng.below(6) {
                out.push(*rng.pick(&['a', 'b', 'z', 'A', '0', '7', '-', '.']));
            }
        }
    }
    out
}

/// `text` as a double-quoted YAML scalar: every character YAML allows raw, the rest escaped.
fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if yaml_printable(c) && c != '\r' && c != '\u{85}' && c != '\u{feff}' => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn plain_safe(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
}

/// `text` as a YAML scalar in a random style: plain when that is safe, else quoted.
fn scalar(text: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 | 1 if plain_safe(text) => text.to_string(),
        2 if text.chars().all(|c| yaml_printable(c) && c != '\n' && c != '\r') => {
            format!("'{}'", text.replace('\'', "''"))
        }
        _ => double_quoted(text),
    }
}

/// A YAML node before it is written out; `Raw` is already a scalar in YAML syntax.
enum Node {
    Raw(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

fn raw(text: impl Into<String>) -> Node {
    Node::Raw(text.into())
}

fn flow(node: &Node, out: &mut String) {
    match node {
        Node::Raw(text) => out.push_str(text),
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push_str(": ");
                flow(value, out);
            }
            out.push('}');
        }
    }
}

/// Writes a mapping in block style at `indent`, its collections in block or flow style at random.
fn block_map(rng: &mut Rng, entries: &[(String, Node)], indent: usize, out: &mut String) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(key);
        out.push(':');
        block_value(rng, value, indent, out);
    }
}

fn block_value(rng: &mut Rng, value: &Node, indent: usize, out: &mut String) {
    let empty = matches!(value, Node::List(v) if v.is_empty())
        || matches!(value, Node::Map(v) if v.is_empty());
    match value {
        Node::Raw(_) => {}
        _ if empty || rng.one_in(4) => {}
        Node::Map(entries) => {
            out.push('\n');
            return block_map(rng, entries, indent + 2, out);
        }
        Node::List(items) => {
            out.push('\n');
            for item in items {
                let mut text = String::new();
                match item {
                    Node::Map(entries) if !entries.is_empty() => {
                        block_map(rng, entries, indent + 4, &mut text)
                    }
                    other => {
                        text.push_str(&" ".repeat(indent + 4));
                        flow(other, &mut text);
                        text.push('\n');
                    }
                }
                out.push_str(&" ".repeat(indent + 2));
                out.push_str("- ");
                out.push_str(&text[indent + 4..]);
            }
            return;
        }
    }
    out.push(' ');
    flow(value, out);
    out.push('\n');
}

fn key(rng: &mut Rng, name: &str) -> String {
    scalar(name, rng)
}

fn maybe(rng: &mut Rng, n: usize) -> bool {
    rng.one_in(n)
}

fn path(rng: &mut Rng, dir: &str, ext: &str) -> String {
    match rng.below(8) {
        0 => text(rng, 3),
        1 => format!("{dir}/{}{ext}", text(rng, 3)),
        _ => format!("{dir}/{}{ext}", rng.pick(&["a", "node", "corp-ca", "ü-ca", "x y"])),
    }
}

fn url(rng: &mut Rng) -> String {
    let scheme = *rng.pick(&["https://", "https://", "https://", "http://", "ftp://", ""]);
    let host = *rng.pick(&[
        "mirror.example",
        "m-1.example:8443",
        "[::1]:5001",
        "[fe80::1]",
        "10.1.2.3",
        "127.0.0.1:5000",
        "localhost",
        "MiXeD.Example",
        "user@host.example",
        "bad_host.example",
        "host.example:99999",
    ]);
    let path = match rng.below(6) {
        0 => String::new(),
        1 => "/v2".into(),
        2 => "/".into(),
        3 => format!("/{}", text(rng, 4)),
        _ => format!(
            "/{}/{}",
            rng.pick(&["artifactory", "v2", "api", "ü"]),
            rng.pick(&["docker", "hub", "a\"b", "a\\b", "%2F", "x'y"])
        ),
    };
    format!("{scheme}{host}{path}")
}

const DURATIONS: &[&str] = &["5s", "1m30s", "100ms", "0s", "1h", "12h", "-1s", "5", "1.5s", "abc", ""];
const REGISTRIES: &[&str] = &[
    "docker.io",
    "quay.io",
    "ghcr.io",
    "registry.k8s.io",
    "reg.example:5000",
    "[::1]:5000",
    "10.0.0.1:443",
    "*",
    "localhost:5000",
    "127.0.0.1:5000",
    "Docker.IO",
    "a-b.c-d.example",
    "x",
    "reg.example:0",
    "reg_x.example",
    "index.docker.io",
];

fn mirror(rng: &mut Rng, providers: &[String]) -> Node {
    let mut fields = vec![(key(rng, "url"), raw(scalar(&url(rng), rng)))];
    if maybe(rng, 4) {
        let all = ["pull", "resolve", "push", "referrers", "PULL", "Resolve", "delete", ""];
        let caps = (0..rng.below(4))
            .map(|_| raw(scalar(*rng.pick(&all), rng)))
            .collect();
        fields.push(("capabilities".into(), Node::List(caps)));
    }
    if maybe(rng, 3) {
        let ca = if rng.one_in(2) {
            raw(scalar(&path(rng, "/etc/pki", ".pem"), rng))
        } else {
            Node::List(
                (0..rng.below(3))
                    .map(|_| raw(scalar(&path(rng, "/etc/pki", ".pem"), rng)))
                    .collect(),
            )
        };
        fields.push(("ca".into(), ca));
    }
    if maybe(rng, 4) {
        let pair = |rng: &mut Rng| {
            Node::Map(vec![
                ("cert".into(), raw(scalar(&path(rng, "/etc/pki", ".crt"), rng))),
                ("key".into(), raw(scalar(&path(rng, "/etc/pki", ".key"), rng))),
            ])
        };
        let client = match rng.below(3) {
            0 => raw(scalar(&path(rng, "/etc/pki", ".pem"), rng)),
            1 => pair(rng),
            _ => Node::List(vec![raw(scalar(&path(rng, "/etc/pki", ".pem"), rng)), pair(rng)]),
        };
        fields.push(("client".into(), client));
    }
    for name in ["skipVerify", "overridePath"] {
        if maybe(rng, 5) {
            fields.push((name.into(), raw(*rng.pick(&["true", "false", "false", "yes"]))));
        }
    }
    if maybe(rng, 3) {
        let names = ["X-Team", "X-Quote", "Accept", "X-Ünï", "X Space", "Authorization", "x-api-key", "X-Empty"];
        let mut seen = BTreeSet::new();
        let headers = (0..=rng.below(3))
            .filter_map(|_| {
                let name = if rng.one_in(6) { text(rng, 2) } else { rng.pick(&names).to_string() };
                if !seen.insert(name.clone()) {
                    return None;
                }
                let value = if rng.one_in(3) {
                    Node::List((0..=rng.below(3)).map(|_| raw(scalar(&text(rng, 4), rng))).collect())
                } else {
                    raw(scalar(&text(rng, 4), rng))
                };
                Some((scalar(&name, rng), value))
            })
            .collect();
        fields.push(("headers".into(), Node::Map(headers)));
    }
    if maybe(rng, 5) {
        fields.push(("dialTimeout".into(), raw(scalar(*rng.pick(DURATIONS), rng))));
    }
    if maybe(rng, 4) {
        let auth = if rng.one_in(2) && !providers.is_empty() {
            let name = rng.pick(providers).clone();
            Node::Map(vec![("provider".into(), raw(scalar(&name, rng)))])
        } else {
            Node::Map(vec![(
                "basicFrom".into(),
                Node::Map(vec![
                    ("usernameFile".into(), raw(scalar(&path(rng, "/etc/mirrorctl/secrets", ""), rng))),
                    ("passwordFile".into(), raw(scalar(&path(rng, "/etc/mirrorctl/secrets", ""), rng))),
                ]),
            )])
        };
        fields.push(("auth".into(), auth));
    }
    Node::Map(fields)
}

fn provider(rng: &mut Rng, name: &str) -> Node {
    let patterns = [
        "docker.io",
        "*.example.com",
        "reg.example:5000/team",
        "*.dkr.ecr.*.amazonaws.com",
        "ghcr.io/org",
        "quay.io",
        "",
        "https://x.example",
        "*",
    ];
    let mut fields = vec![
        ("name".into(), raw(scalar(name, rng))),
        (
            "matchImages".into(),
            Node::List(
                (0..=rng.below(3))
                    .map(|_| {
                        let p = if rng.one_in(8) { text(rng, 2) } else { rng.pick(&patterns).to_string() };
                        raw(scalar(&p, rng))
                    })
                    .collect(),
            ),
        ),
        (
            "defaultCacheDuration".into(),
            raw(scalar(*rng.pick(DURATIONS), rng)),
        ),
    ];
    if maybe(rng, 4) {
        let version = *rng.pick(&[
            "credentialprovider.kubelet.k8s.io/v1",
            "credentialprovider.kubelet.k8s.io/v1beta1",
            "credentialprovider.kubelet.k8s.io/v1alpha1",
            "v2",
        ]);
        fields.push(("apiVersion".into(), raw(scalar(version, rng))));
    }
    if maybe(rng, 2) {
        let args = (0..rng.below(4)).map(|_| raw(scalar(&text(rng, 4), rng))).collect();
        fields.push(("args".into(), Node::List(args)));
    }
    if maybe(rng, 2) {
        let mut seen = BTreeSet::new();
        let env = (0..rng.below(4))
            .filter_map(|_| {
                let name = if rng.one_in(4) { text(rng, 2) } else { rng.pick(&["HTTPS_PROXY", "AWS_PROFILE", "ZZZ", "EMPTY", "a"]).to_string() };
                seen.insert(name.clone()).then(|| (scalar(&name, rng), raw(scalar(&text(rng, 4), rng))))
            })
            .collect();
        fields.push(("env".into(), Node::Map(env)));
    }
    if maybe(rng, 3) {
        let mut attrs = vec![(
            "serviceAccountTokenAudience".into(),
            raw(scalar(&if rng.one_in(3) { text(rng, 3) } else { "corp".into() }, rng)),
        )];
        if rng.one_in(2) {
            attrs.push(("requireServiceAccount".into(), raw(*rng.pick(&["true", "false"]))));
        }
        for name in ["requiredServiceAccountAnnotationKeys", "optionalServiceAccountAnnotationKeys"] {
            if rng.one_in(3) {
                let keys = ["example.com/team", "team", "a/b/c", "-bad"];
                let list = (0..=rng.below(2)).map(|_| raw(scalar(*rng.pick(&keys), rng))).collect();
                attrs.push((name.into(), Node::List(list)));
            }
        }
        if rng.one_in(3) {
            attrs.push(("cacheType".into(), raw(*rng.pick(&["Token", "ServiceAccount", "Other"]))));
        }
        fields.push(("tokenAttributes".into(), Node::Map(attrs)));
    }
    Node::Map(fields)
}

/// A random inventory over the whole schema, mostly valid, with strings that stress escaping.
fn generated(rng: &mut Rng, _corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut top: Vec<(String, Node)> = Vec::new();
    let version = if rng.one_in(20) { *rng.pick(&["2", "\"1\"", "1.0", "0"]) } else { "1" };
    top.push(("version".into(), raw(version)));
    if maybe(rng, 2) {
        let containerd = ["1.6", "1.7", "1.7.16", "2.0", "2.0.7", "2.1", "2.2", "3.0", "abc"];
        let kubelet = ["1.20", "1.23", "1.25", "1.26", "1.29", "1.33", "1.34", "1.35", "1"];
        top.push((
            "target".into(),
            Node::Map(vec![
                ("containerd".into(), raw(double_quoted(*rng.pick(&containerd)))),
                ("kubelet".into(), raw(double_quoted(*rng.pick(&kubelet)))),
            ]),
        ));
    }
    if maybe(rng, 3) {
        let mut paths = Vec::new();
        if rng.one_in(2) {
            let dir = *rng.pick(&["/etc/containerd/certs.d", "/etc/containerd/certs.d/", "/x", "relative", "/a b/c", "/etc/ü", "/etc/../x"]);
            paths.push(("certsDir".into(), raw(scalar(dir, rng))));
        }
        if rng.one_in(2) {
            let file = *rng.pick(&["/etc/kubernetes/cp.yaml", "/etc/kubernetes/cp.json", "/etc/kubernetes/cp.yml", "/etc/kubernetes/cp.JSON", "cp.yaml"]);
            paths.push(("credentialProviderConfig".into(), raw(scalar(file, rng))));
        }
        if rng.one_in(3) {
            paths.push(("stateDir".into(), raw(scalar("/var/lib/mirrorctl-fuzz", rng))));
        }
        top.push(("paths".into(), Node::Map(paths)));
    }
    if maybe(rng, 4) {
        let modes = ["\"0644\"", "\"0600\"", "\"0640\"", "\"0755\"", "\"4755\"", "\"999\"", "0644", "420"];
        top.push((
            "modes".into(),
            Node::Map(vec![
                ("hostsToml".into(), raw(*rng.pick(&modes))),
                ("credentialProviderConfig".into(), raw(*rng.pick(&modes))),
            ]),
        ));
    }
    let names = ["ecr-login", "corp", "gcr", "a", "bad/name", "x y"];
    let provider_names: Vec<String> = (0..rng.below(4))
        .map(|_| if rng.one_in(6) { text(rng, 2) } else { rng.pick(&names).to_string() })
        .collect();
    let mut seen = BTreeSet::new();
    let registries: Vec<(String, Node)> = (0..rng.below(6))
        .filter_map(|_| {
            let name = if rng.one_in(10) { text(rng, 2) } else { rng.pick(REGISTRIES).to_string() };
            if !seen.insert(name.clone()) {
                return None;
            }
            let mut fields = vec![(
                "mirrors".to_string(),
                Node::List((0..=rng.below(3)).map(|_| mirror(rng, &provider_names)).collect()),
            )];
            if rng.one_in(4) {
                fields.push(("fallback".into(), raw(*rng.pick(&["true", "false"]))));
            }
            if rng.one_in(8) {
                fields.push(("server".into(), raw(scalar(&url(rng), rng))));
            }
            Some((scalar(&name, rng), Node::Map(fields)))
        })
        .collect();
    if !registries.is_empty() || rng.one_in(3) {
        top.push(("registries".into(), Node::Map(registries)));
    }
    if !provider_names.is_empty() {
        let providers = provider_names.iter().map(|n| provider(rng, n)).collect();
        top.push(("credentialProviders".into(), Node::List(providers)));
    }
    if rng.one_in(10) {
        top.push((format!("x-{}", rng.below(100)), raw(scalar(&text(rng, 3), rng))));
    }
    let mut out = String::new();
    if rng.one_in(10) {
        out.push_str("# generated\n---\n");
    }
    block_map(rng, &top, 0, &mut out);
    out.into_bytes()
}

/// Tokens for byte soup: YAML syntax and the inventory's own keys, so that soup gets past the
/// YAML parser often enough to reach the decoder.
const TOKENS: &[&str] = &[
    "version", "registries", "mirrors", "url", "ca", "client", "cert", "key", "headers", "auth",
    "basicFrom", "provider", "fallback", "server", "credentialProviders", "name", "matchImages",
    "defaultCacheDuration", "args", "env", "tokenAttributes", "paths", "modes", "target", "1",
    "docker.io", "https://m.example", ":", ": ", "\n", "\n  ", "\n    ", "- ", "[", "]", "{", "}",
    ",", "&a ", "*a", "!!str ", "|\n", ">\n", "'", "\"", "# c", "? ", "<<: ", "---\n", "...\n",
    "%YAML 1.2\n", "\\", "\t", "~", "null", "true", "0x10", "\u{feff}", "\u{0}",
];

fn arbitrary_bytes(rng: &mut Rng, _corpus: &[Vec<u8>]) -> Vec<u8> {
    let len = if rng.one_in(10) { rng.below(4096) } else { rng.below(200) };
    match rng.below(4) {
        0 => (0..len).map(|_| rng.next_u64() as u8).collect(),
        1 => {
            let alphabet = b"version: 1\nregistries:-[]{}&*!|>'\"#%@,?\t\\ ~0x.";
            (0..len).map(|_| *rng.pick(alphabet)).collect()
        }
        2 => {
            let mut out = String::new();
            while out.len() < len {
                out.push_str(*rng.pick(TOKENS));
            }
            out.into_bytes()
        }
        _ => (0..len / 2)
            .filter_map(|_| char::from_u32(rng.below(0x11_0000) as u32))
            .collect::<String>()
            .into_bytes(),
    }
}

fn mutated(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = rng.pick(corpus).clone();
    for _ in 0..=rng.below(4) {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(10) {
            0 if len > 0 => bytes[at.min(len - 1)] = rng.next_u64() as u8,
            1 if len > 0 => bytes[at.min(len - 1)] ^= 1 << rng.below(8),
            2 => bytes.truncate(at),
            3 => {
                let end = (at + rng.below(40)).min(len);
                bytes.drain(at..end);
            }
            4 | 5 => {
                let token = rng.pick(TOKENS).as_bytes().to_vec();
                bytes.splice(at..at, token);
            }
            6 => {
                // Duplicate a line, or swap two.
                let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let i = rng.below(lines.len());
                let j = rng.below(lines.len());
                if rng.one_in(2) {
                    let line = lines[i].clone();
                    lines.insert(j, line);
                } else {
                    lines.swap(i, j);
                }
                bytes = lines.join(&b'\n');
            }
            7 => {
                // Re-indent a line.
                let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                let i = rng.below(lines.len());
                let mut out = Vec::with_capacity(len + 4);
                for (n, line) in lines.iter().enumerate() {
                    if n > 0 {
                        out.push(b'\n');
                    }
                    if n == i {
                        let trimmed = line.iter().position(|&b| b != b' ').unwrap_or(line.len());
                        out.extend(std::iter::repeat_n(b' ', rng.below(9)));
                        out.extend_from_slice(&line[trimmed..]);
                    } else {
                        out.extend_from_slice(line);
                    }
                }
                bytes = out;
            }
            8 => {
                // Replace what follows a `: ` with a random structure.
                if let Some(colon) = bytes[at..].windows(2).position(|w| w == b": ") {
                    let start = at + colon + 2;
                    let end = bytes[start..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |e| start + e);
                    let node = random_structure(rng, 3);
                    let mut text = String::new();
                    flow(&node, &mut text);
                    bytes.splice(start..end, text.into_bytes());
                }
            }
            _ => {
                // Splice in a line of another corpus file.
                let other = rng.pick(corpus);
                let lines: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                let mut line = rng.pick(&lines).to_vec();
                line.push(b'\n');
                let at = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                bytes.splice(at..at, line);
            }
        }
    }
    bytes
}

fn random_structure(rng: &mut Rng, depth: usize) -> Node {
    match rng.below(if depth == 0 { 1 } else { 4 }) {
        0 => raw(scalar(&text(rng, 3), rng)),
        1 => Node::List((0..rng.below(4)).map(|_| random_structure(rng, depth - 1)).collect()),
        _ => Node::Map(
            (0..rng.below(4))
                .map(|_| {
                    let k = if rng.one_in(2) { rng.pick(TOKENS).trim().to_string() } else { text(rng, 2) };
                    (scalar(&k, rng), random_structure(rng, depth - 1))
                })
                .collect(),
        ),
    }
}

/// Every inventory in the repository (valid and invalid) plus generated ones: what the
/// mutations start from.
fn corpus(seed: u64) -> Vec<Vec<u8>> {
    let fixtures = support::fixtures();
    let mut files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/inventory.yaml")];
    for entry in fs::read_dir(fixtures.join("render")).expect("fixtures/render").flatten() {
        files.push(entry.path().join("inventory.yaml"));
    }
    for entry in fs::read_dir(fixtures.join("invalid")).expect("fixtures/invalid").flatten() {
        files.push(entry.path());
    }
    let mut corpus: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|f| fs::read(f).ok())
        .filter(|bytes| bytes.len() < 100_000)
        .collect();
    let mut rng = Rng::new(seed ^ 0xC0FFEE);
    corpus.extend((0..20).map(|_| generated(&mut rng, &[])));
    corpus
}

// ---------------------------------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    run_cases("arbitrary bytes", seed, 4000 * scale(), Vec::new(), arbitrary_bytes);
}

#[test]
fn mutated_inventories_never_panic_and_accepted_ones_render_files_that_parse() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    let tally = run_cases("mutated inventories", seed, 4000 * scale(), corpus(seed), mutated);
    assert!(
        tally.accepted * 20 >= tally.cases,
        "fewer than 1 in 20 mutants load ({} of {}): the mutations no longer reach the renderer",
        tally.accepted,
        tally.cases
    );
}

#[test]
fn generated_inventories_render_files_that_parse_back_to_the_inventory() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    let tally = run_cases("generated inventories", seed, 3000 * scale(), Vec::new(), generated);
    assert!(
        tally.accepted * 4 >= tally.cases,
        "fewer than 1 in 4 generated inventories load ({} of {}): the generator drifted from the schema",
        tally.accepted,
        tally.cases
    );
}

/// Inputs built to exhaust a parser: each must end the real binary with exit 1 and a message,
/// within a bounded time, never with a crash (a stack overflow aborts, which only a separate
/// process can observe).
#[test]
fn hostile_inventories_fail_cleanly_in_the_binary() {
    let laughs = {
        let mut text = String::from("version: 1\nx-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("x-{i}: &a{i} [{refs}]\n"));
        }
        text
    };
    let wide_alias = format!(
        "version: 1\nx-a: &a [{}]\nx-b: [{}]\n",
        vec!["1"; 1000].join(", "),
        vec!["*a"; 100_000].join(", ")
    );
    let deep_block_map: String = (0..3000).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    let mut over_limit = b"version: 1\n# ".to_vec();
    over_limit.resize(64 * 1024 * 1024 + 16, b'x');
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep flow sequences", "[".repeat(200_000).into_bytes()),
        ("deep flow mappings", "{a: ".repeat(100_000).into_bytes()),
        ("deep block sequences", format!("{}x\n", "- ".repeat(50_000)).into_bytes()),
        ("deep block mappings", deep_block_map.into_bytes()),
        ("billion laughs", laughs.into_bytes()),
        ("a wide alias fan-out", wide_alias.into_bytes()),
        (
            "a huge mirror URL",
            format!(
                "version: 1\nregistries:\n  docker.io:\n    mirrors: [{{url: \"https://{}\"}}]\n",
                "a".repeat(8 << 20)
            )
            .into_bytes(),
        ),
        ("over the size limit", over_limit),
        ("100k duplicate keys", "version: 1\n".repeat(100_000).into_bytes()),
        ("100k documents", "---\nversion: 1\n".repeat(100_000).into_bytes()),
        ("an unterminated quote", format!("version: \"{}", "x".repeat(1 << 20)).into_bytes()),
        ("invalid UTF-8", b"version: 1\nregistries:\n  \"\xff\xfe\": {}\n".to_vec()),
        ("NUL bytes", b"version: 1\0\nregistries: {}\n".to_vec()),
        ("complex keys", b"version: 1\n? [a, b]\n: c\n".to_vec()),
        ("directives and tags", b"%YAML 1.1\n%TAG ! tag:x,2000:\n---\nversion: !int 1\nregistries: !!map {}\n".to_vec()),
        ("anchors on deep nodes", format!("version: 1\nx-a: {}1{}\n", "&a [".repeat(60), "]".repeat(60)).into_bytes()),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in cases {
        let file = dir.path().join("inventory.yaml");
        fs::write(&file, &bytes).expect("write inventory");
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .args(["render", "-i"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mirrorctl");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name}: still running after 30 s: a hang");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let output = child.wait_with_output().expect("output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            status.code() == Some(1)
                && stderr.starts_with("error: ")
                && !stderr.contains("panicked"),
            "{name}: expected exit 1 and a message, got {status:?} after {:?}\n--- stderr:\n{}",
            started.elapsed(),
            &stderr[..stderr.len().min(2000)]
        );
        eprintln!("{name}: exit 1 in {:?}", started.elapsed());
    }
}
