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
use std::os::unix::process::ExitStatusExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mirrorctl::inventory::{self, Auth, ClientCert, HeaderValue, Inventory, Mirror};
use mirrorctl::render::{self, DesiredState, FileKind};
use mirrorctl::secrets::Secrets;

use crate::support::{self, BIN};

/// SplitMix64: tiny and fast, and good enough to spread test cases; same seed, same cases.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The seed a run uses unless told otherwise: fixed, so a CI failure replays on any machine.
const DEFAULT_SEED: u64 = 0x6d69_7272_6f72_6374;

/// This run's seed: `$var` when set (another seed, or a failure's to replay), else the fixed
/// [`DEFAULT_SEED`]. Printed first, so that every failure can be replayed.
pub(crate) fn seed(var: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_SEED);
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

/// Feeds `cases` inputs from `generate` through `check` (true: the input was accepted) on a
/// worker thread, and fails with the seed, the case number and the input when one panics or
/// takes longer than [`CASE_LIMIT`].
fn run_cases(
    name: &str,
    seed: u64,
    cases: usize,
    corpus: Vec<Vec<u8>>,
    generate: Generator,
    check: fn(&[u8]) -> bool,
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
    let secrets = Secrets::unread(&inventory);
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
            // Mirror-only: the last mirror is the server and only the server (a [host] naming
            // it as well would make containerd try it twice).
            let last = endpoints.pop().expect("a mirror");
            assert_eq!(
                doc.get("server").and_then(toml::Value::as_str),
                Some(written_url(&last.url.value).as_str()),
                "{path}: fallback: false makes the last mirror the server\n{text}"
            );
            endpoint_round_trip(&path, &doc, last, text);
        } else if let Some(server) = &registry.server {
            assert_eq!(
                doc.get("server").and_then(toml::Value::as_str),
                Some(written_url(&server.value).as_str()),
                "{path}: server\n{text}"
            );
        }
        let written: BTreeSet<String> = hosts.keys().cloned().collect();
        let wanted: BTreeSet<String> = endpoints
            .iter()
            .map(|m| written_url(&m.url.value))
            .collect();
        assert_eq!(written, wanted, "{path}: [host] tables\n{text}");
        for mirror in &endpoints {
            let url = written_url(&mirror.url.value);
            let table = hosts[&url].as_table().expect("a host is a table");
            endpoint_round_trip(&path, table, mirror, text);
        }
    }
}

/// A generated URL as hosts.toml carries it: the path cleaned as Go's `path.Clean` cleans it
/// (empty and `.` segments dropped, `..` going up), so a bare `/` never makes containerd ask `//v2`.
fn written_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a generated URL has a scheme");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = format!("{scheme}://{host}");
    for segment in segments {
        out.push('/');
        out.push_str(segment);
    }
    out
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
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let ca: Vec<String> = mirror.ca.iter().map(|c| c.node_path(dir)).collect();
    assert_eq!(strings(table.get("ca")), ca, "{path}: ca\n{text}");
    let client: Vec<String> = mirror
        .client
        .iter()
        .flat_map(|c| match c {
            ClientCert::Combined(file) => vec![file.value.clone()],
            ClientCert::Pair { cert, key } => vec![cert.value.clone(), key.value.clone()],
        })
        .collect();
    assert_eq!(
        strings(table.get("client")),
        client,
        "{path}: client\n{text}"
    );
    // Only `true` is written: any TLS key makes containerd 1.7+ try HTTPS first.
    assert_eq!(
        table.get("skip_verify").and_then(toml::Value::as_bool),
        (mirror.skip_verify == Some(true)).then_some(true),
        "{path}: skip_verify\n{text}"
    );
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
                    .map(|v| toml::Value::String(header_text(v)))
                    .collect(),
            )
        } else {
            toml::Value::String(header.values.first().map(header_text).unwrap_or_default())
        };
        assert_eq!(
            written,
            Some(&expected),
            "{path}: header {:?}\n{text}",
            header.name.value
        );
    }
    if let Some(Auth::BasicFrom { .. }) = mirror.auth.as_deref() {
        let authorization = headers
            .and_then(|h| h.get("Authorization"))
            .and_then(toml::Value::as_str)
            .unwrap_or_default();
        assert!(
            authorization.starts_with("Basic "),
            "{path}: basicFrom renders an Authorization header\n{text}"
        );
    }
    if let Some(Auth::BearerFrom { .. }) = mirror.auth.as_deref() {
        let authorization = headers
            .and_then(|h| h.get("Authorization"))
            .and_then(toml::Value::as_str)
            .unwrap_or_default();
        assert!(
            authorization.starts_with("Bearer "),
            "{path}: bearerFrom renders an Authorization header\n{text}"
        );
    }
    let from_files = mirror
        .headers
        .iter()
        .any(|h| h.values.iter().any(|v| matches!(v, HeaderValue::File(_))));
    assert!(
        !from_files || text.contains(mirrorctl::redact::FILE_HEADERS),
        "{path}: a header from a file is named for redaction\n{text}"
    );
}

/// A header value as rendered with [`Secrets::unread`]: a file's value is its stand-in.
fn header_text(value: &HeaderValue) -> String {
    match value {
        HeaderValue::Inline(text) => text.clone(),
        HeaderValue::File(file) => mirrorctl::redact::unread(&file.value),
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
        assert_eq!(
            got["name"],
            want.name.value.as_str(),
            "{path}: name\n{text}"
        );
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

/// Text that has broken parsers and emitters before: quotes, escapes, YAML and TOML
/// indicators, non-ASCII, characters that are printable but special somewhere.
const PRINTABLE: &[&str] = &[
    "a",
    "x",
    "9",
    "-",
    "_",
    ".",
    "/",
    "ü",
    "日本",
    "😀",
    "\"",
    "'",
    "\\",
    "\\\"",
    ":",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&",
    "*",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
    "=",
    "+",
    "~",
    "<<",
    "${HOME}",
    "$(id)",
    "true",
    "null",
    "0x1F",
    "1e3",
    ".inf",
    "%20",
    "\u{a0}",
    "\u{2028}",
    "\u{200b}",
    "\u{fffd}",
    "\u{e000}",
    "\u{10ffff}",
];
/// What only some fields accept: spaces, comment starts, URL delimiters.
const SPACED: &[&str] = &[" ", " #", "# ", ": ", "- ", "\t", "?", "#"];
/// What YAML and TOML must escape, and what most fields refuse.
const CONTROL: &[&str] = &[
    "\n", "\r", "\u{0}", "\u{1}", "\u{1b}", "\u{7f}", "\u{85}", "\u{9f}", "\u{feff}",
];

/// Builds one random inventory. `wild` (0 for most inventories) is how often, in 40, a field
/// takes a value its rules refuse; the rest are valid but as awkward as the field allows.
struct Gen<'a> {
    rng: &'a mut Rng,
    wild: usize,
    providers: Vec<String>,
}

impl Gen<'_> {
    fn one_in(&mut self, n: usize) -> bool {
        self.rng.one_in(n)
    }

    fn is_wild(&mut self) -> bool {
        self.wild > 0 && self.rng.below(40) < self.wild
    }

    /// A value from `valid`, or now and then from `wild`.
    fn choose(&mut self, valid: &[&str], wild: &[&str]) -> String {
        let from = if !wild.is_empty() && self.is_wild() {
            wild
        } else {
            valid
        };
        self.rng.pick(from).to_string()
    }

    /// Up to `parts` pieces from `pools`, with plain letters between.
    fn text_from(&mut self, parts: usize, pools: &[&[&str]]) -> String {
        let mut out = String::new();
        for _ in 0..=self.rng.below(parts) {
            if self.rng.one_in(2) {
                let pool = *self.rng.pick(pools);
                out.push_str(self.rng.pick::<&str>(pool));
            } else {
                for _ in 0..=self.rng.below(6) {
                    out.push(*self.rng.pick(&['a', 'b', 'z', 'A', '0', '7', '-', '.']));
                }
            }
        }
        out
    }

    /// Free text: printable and awkward; with spaces where `spaced`; control characters when wild.
    fn text(&mut self, parts: usize, spaced: bool) -> String {
        let wild = self.is_wild();
        match (spaced, wild) {
            (_, true) => self.text_from(parts, &[PRINTABLE, SPACED, CONTROL]),
            (true, false) => self.text_from(parts, &[PRINTABLE, SPACED]),
            (false, false) => self.text_from(parts, &[PRINTABLE]),
        }
    }

    fn scalar(&mut self, text: &str) -> String {
        scalar(text, self.rng)
    }

    fn raw_scalar(&mut self, text: &str) -> Node {
        raw(self.scalar(text))
    }

    fn path(&mut self, dir: &str, ext: &str) -> String {
        if self.is_wild() {
            return self.text(3, true);
        }
        let spaced = self.one_in(4);
        let name = self.text(3, spaced);
        format!("{dir}/{}{ext}", name.replace('/', "_"))
    }

    fn url(&mut self) -> String {
        let scheme = self.choose(
            &["https://", "https://", "http://"],
            &["ftp://", "", "HTTPS://"],
        );
        let host = self.choose(
            &[
                "mirror.example",
                "m-1.example:8443",
                "[::1]:5001",
                "[fe80::1]",
                "10.1.2.3",
                "127.0.0.1:5000",
                "localhost",
                "MiXeD.Example",
            ],
            &[
                "user@host.example",
                "bad_host.example",
                "host.example:99999",
                "",
                "[::1",
            ],
        );
        let path = match self.rng.below(5) {
            0 => String::new(),
            1 => "/v2".into(),
            2 => "/".into(),
            _ => {
                // Dot segments are cleaned away by containerd (and mirrorctl): the unit tests
                // of the effective model cover them; here a path stays as written.
                let segment = self.text(3, false).replace(['?', '#'], "_");
                if segment.trim_matches('.').is_empty() {
                    format!("/p{segment}")
                } else {
                    format!("/{segment}")
                }
            }
        };
        format!("{scheme}{host}{path}")
    }

    fn mirror(&mut self) -> Node {
        let url = self.url();
        let mut fields = vec![("url".to_string(), self.raw_scalar(&url))];
        if self.one_in(4) {
            let mut caps = vec!["resolve"];
            if !self.one_in(4) {
                caps.insert(0, "pull");
            }
            if self.one_in(3) {
                caps.push("push");
            }
            let mut caps: Vec<Node> = caps.into_iter().map(|c| self.raw_scalar(c)).collect();
            if self.is_wild() {
                let cap = *self
                    .rng
                    .pick(&["referrers", "delete", "", "PULL", "resolve"]);
                caps.push(self.raw_scalar(cap));
            }
            fields.push(("capabilities".into(), Node::List(caps)));
        }
        if self.one_in(3) {
            let ca = if self.one_in(2) {
                let path = self.path("/etc/pki", ".pem");
                self.raw_scalar(&path)
            } else {
                Node::List(
                    (0..=self.rng.below(2))
                        .map(|_| {
                            let path = self.path("/etc/pki", ".pem");
                            self.raw_scalar(&path)
                        })
                        .collect(),
                )
            };
            fields.push(("ca".into(), ca));
        }
        if self.one_in(4) {
            let client = match self.rng.below(3) {
                0 => {
                    let path = self.path("/etc/pki", ".pem");
                    self.raw_scalar(&path)
                }
                1 => self.client_pair(),
                _ => {
                    let path = self.path("/etc/pki", ".pem");
                    Node::List(vec![self.raw_scalar(&path), self.client_pair()])
                }
            };
            fields.push(("client".into(), client));
        }
        for name in ["skipVerify", "overridePath"] {
            if self.one_in(5) {
                let value = self.choose(&["true", "false"], &["yes", "\"true\""]);
                fields.push((name.into(), raw(value)));
            }
        }
        if self.one_in(3) {
            let mut headers = Vec::new();
            let mut seen = BTreeSet::new();
            for _ in 0..=self.rng.below(3) {
                let name = self.choose(
                    &[
                        "X-Team",
                        "X-Quote",
                        "Accept",
                        "X-Empty",
                        "Accept-Language",
                        "X-A.B",
                        "x-lower",
                    ],
                    &[
                        "X Space",
                        "X-Ünï",
                        "Authorization",
                        "x-api-key",
                        "",
                        "X:Colon",
                    ],
                );
                if !seen.insert(name.to_lowercase()) {
                    continue;
                }
                let value = if self.one_in(3) {
                    Node::List(
                        (0..=self.rng.below(3))
                            .map(|_| {
                                if self.one_in(4) {
                                    self.header_file()
                                } else {
                                    let text = self.text(4, true).replace(['\t'], " ");
                                    self.raw_scalar(&text)
                                }
                            })
                            .collect(),
                    )
                } else if self.one_in(4) {
                    self.header_file()
                } else {
                    let text = self.text(4, true);
                    self.raw_scalar(&text)
                };
                let key = self.scalar(&name);
                headers.push((key, value));
            }
            fields.push(("headers".into(), Node::Map(headers)));
        }
        if self.one_in(5) {
            let timeout = self.choose(
                &["5s", "1m30s", "100ms", "1h", "1.5s"],
                &["0s", "-1s", "5", "abc", ""],
            );
            fields.push(("dialTimeout".into(), self.raw_scalar(&timeout)));
        }
        if self.one_in(4) {
            let auth = if self.one_in(2) && !self.providers.is_empty() {
                let name = self.rng.pick(&self.providers).clone();
                Node::Map(vec![("provider".into(), self.raw_scalar(&name))])
            } else if self.one_in(3) {
                let token = self.path("/etc/mirrorctl/secrets", "");
                Node::Map(vec![(
                    "bearerFrom".into(),
                    Node::Map(vec![("tokenFile".into(), self.raw_scalar(&token))]),
                )])
            } else {
                let user = self.path("/etc/mirrorctl/secrets", "");
                let pass = self.path("/etc/mirrorctl/secrets", "");
                Node::Map(vec![(
                    "basicFrom".into(),
                    Node::Map(vec![
                        ("usernameFile".into(), self.raw_scalar(&user)),
                        ("passwordFile".into(), self.raw_scalar(&pass)),
                    ]),
                )])
            };
            fields.push(("auth".into(), auth));
        }
        Node::Map(fields)
    }

    /// A header value read from a file: `{file: PATH}`.
    fn header_file(&mut self) -> Node {
        let file = self.path("/etc/mirrorctl/creds", "");
        Node::Map(vec![("file".into(), self.raw_scalar(&file))])
    }

    fn client_pair(&mut self) -> Node {
        let cert = self.path("/etc/pki", ".crt");
        let key = self.path("/etc/pki", ".key");
        Node::Map(vec![
            ("cert".into(), self.raw_scalar(&cert)),
            ("key".into(), self.raw_scalar(&key)),
        ])
    }

    fn registry(&mut self) -> Node {
        let mut fields = vec![(
            "mirrors".to_string(),
            Node::List((0..=self.rng.below(2)).map(|_| self.mirror()).collect()),
        )];
        let fallback = self
            .one_in(4)
            .then(|| self.choose(&["true", "false"], &["no"]));
        if let Some(fallback) = &fallback {
            fields.push(("fallback".into(), raw(fallback.clone())));
        }
        if self.one_in(8) && fallback.as_deref() != Some("false") {
            let url = self.url();
            fields.push(("server".into(), self.raw_scalar(&url)));
        }
        Node::Map(fields)
    }

    fn provider(&mut self, name: &str) -> Node {
        let images = (0..=self.rng.below(2))
            .map(|_| {
                let pattern = self.choose(
                    &[
                        "docker.io",
                        "*.example.com",
                        "reg.example:5000/team",
                        "*.dkr.ecr.*.amazonaws.com",
                        "ghcr.io/org",
                        "quay.io",
                    ],
                    &["", "https://x.example", "a b", "[::1"],
                );
                self.raw_scalar(&pattern)
            })
            .collect();
        let cache = self.choose(
            &["5s", "1m30s", "1h", "12h", "0s"],
            &["-1s", "5", "abc", ""],
        );
        let mut fields = vec![
            ("name".into(), self.raw_scalar(name)),
            ("matchImages".into(), Node::List(images)),
            ("defaultCacheDuration".into(), self.raw_scalar(&cache)),
        ];
        if self.one_in(4) {
            let version = self.choose(
                &["credentialprovider.kubelet.k8s.io/v1"],
                &["credentialprovider.kubelet.k8s.io/v1alpha1", "v2"],
            );
            fields.push(("apiVersion".into(), self.raw_scalar(&version)));
        }
        if self.one_in(2) {
            let args = (0..=self.rng.below(3))
                .map(|_| {
                    let arg = self.text(4, true);
                    self.raw_scalar(&arg)
                })
                .collect();
            fields.push(("args".into(), Node::List(args)));
        }
        if self.one_in(2) {
            let mut env = Vec::new();
            let mut seen = BTreeSet::new();
            for _ in 0..=self.rng.below(3) {
                let name = self.choose(
                    &["HTTPS_PROXY", "AWS_PROFILE", "ZZZ", "EMPTY", "a"],
                    &["", "A B", "Ü"],
                );
                if seen.insert(name.clone()) {
                    let value = self.text(4, true);
                    let key = self.scalar(&name);
                    env.push((key, self.raw_scalar(&value)));
                }
            }
            fields.push(("env".into(), Node::Map(env)));
        }
        if self.one_in(3) {
            let audience = self.text(3, false);
            let mut attrs = vec![
                (
                    "serviceAccountTokenAudience".to_string(),
                    self.raw_scalar(&audience),
                ),
                (
                    "requireServiceAccount".into(),
                    raw(self.choose(&["true"], &["false", "maybe"])),
                ),
                (
                    "cacheType".into(),
                    raw(self.choose(&["Token", "ServiceAccount"], &["Other"])),
                ),
            ];
            for (name, valid) in [
                (
                    "requiredServiceAccountAnnotationKeys",
                    ["example.com/team", "team"],
                ),
                (
                    "optionalServiceAccountAnnotationKeys",
                    ["example.com/cost", "a.b/c-d"],
                ),
            ] {
                if self.one_in(3) {
                    let keys = (0..=self.rng.below(1))
                        .map(|_| {
                            let key = self.choose(&valid, &["-bad", "a/b/c", "team"]);
                            self.raw_scalar(&key)
                        })
                        .collect();
                    attrs.push((name.into(), Node::List(keys)));
                }
            }
            fields.push(("tokenAttributes".into(), Node::Map(attrs)));
        }
        Node::Map(fields)
    }

    fn inventory(&mut self) -> Node {
        let mut top = vec![(
            "version".to_string(),
            raw(self.choose(&["1"], &["2", "\"1\"", "1.0", "0"])),
        )];
        if self.one_in(3) {
            let containerd =
                self.choose(&["2.0.7", "2.1", "2.2"], &["1.6", "1.7.16", "abc", "1.5"]);
            let kubelet = self.choose(&["1.34", "1.35"], &["1", "1.19", "1.26", "1.33"]);
            top.push((
                "target".into(),
                Node::Map(vec![
                    ("containerd".into(), raw(double_quoted(&containerd))),
                    ("kubelet".into(), raw(double_quoted(&kubelet))),
                ]),
            ));
        }
        if self.one_in(3) {
            let mut paths = Vec::new();
            if self.one_in(2) {
                let dir = self.choose(
                    &[
                        "/etc/containerd/certs.d",
                        "/etc/containerd/certs.d/",
                        "/x",
                        "/etc/ü",
                        "/a b/c",
                    ],
                    &["relative", "/etc/../x", ""],
                );
                paths.push(("certsDir".into(), self.raw_scalar(&dir)));
            }
            if self.one_in(2) {
                let file = self.choose(
                    &[
                        "/etc/kubernetes/cp.yaml",
                        "/etc/kubernetes/cp.json",
                        "/etc/kubernetes/cp.yml",
                        "/etc/kubernetes/ü cp.yaml",
                    ],
                    &["cp.yaml", "/etc/kubernetes/", "/etc/kubernetes/cp.toml"],
                );
                paths.push(("credentialProviderConfig".into(), self.raw_scalar(&file)));
            }
            if self.one_in(3) {
                paths.push((
                    "stateDir".into(),
                    self.raw_scalar("/var/lib/mirrorctl-fuzz"),
                ));
            }
            top.push(("paths".into(), Node::Map(paths)));
        }
        if self.one_in(4) {
            let valid = ["\"0644\"", "\"0600\"", "\"0640\"", "\"0444\""];
            let wild = ["\"0755\"", "\"4755\"", "\"999\"", "0644", "420"];
            top.push((
                "modes".into(),
                Node::Map(vec![
                    ("hostsToml".into(), raw(self.choose(&valid, &wild))),
                    (
                        "credentialProviderConfig".into(),
                        raw(self.choose(&valid, &wild)),
                    ),
                ]),
            ));
        }
        let count = self.rng.below(4);
        let mut providers = BTreeSet::new();
        for _ in 0..count {
            providers.insert(self.choose(
                &["ecr-login", "corp", "gcr", "a", "x.y_z"],
                &["bad/name", "x y", "..", ""],
            ));
        }
        self.providers = providers.into_iter().collect();
        let mut seen = BTreeSet::new();
        let mut registries = Vec::new();
        for _ in 0..self.rng.below(6) {
            let name = self.choose(
                &[
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
                    "a-b.c-d.example",
                    "x",
                ],
                &[
                    "Docker.IO",
                    "reg.example:0",
                    "reg_x.example",
                    "index.docker.io",
                    "a b",
                    "",
                    "../x",
                ],
            );
            if seen.insert(name.clone()) {
                let key = self.scalar(&name);
                registries.push((key, self.registry()));
            }
        }
        if !registries.is_empty() || self.one_in(3) {
            top.push(("registries".into(), Node::Map(registries)));
        }
        if !self.providers.is_empty() {
            let names = self.providers.clone();
            let providers = names.iter().map(|n| self.provider(n)).collect();
            top.push(("credentialProviders".into(), Node::List(providers)));
        }
        if self.one_in(10) {
            let text = self.text(3, true);
            top.push((format!("x-{}", self.rng.below(100)), self.raw_scalar(&text)));
        }
        Node::Map(top)
    }
}

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
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
}

/// `text` as a YAML scalar in a random style: plain when that is safe, else quoted.
fn scalar(text: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 | 1 if plain_safe(text) => text.to_string(),
        2 if text
            .chars()
            .all(|c| yaml_printable(c) && c != '\n' && c != '\r') =>
        {
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

/// A random inventory over the whole schema: most are valid, with strings that stress every
/// escaping rule; one in three has a few fields that their rules refuse.
pub(crate) fn generated(rng: &mut Rng, _corpus: &[Vec<u8>]) -> Vec<u8> {
    let wild = *rng.pick(&[0, 0, 1, 3]);
    let top = Gen {
        rng,
        wild,
        providers: Vec::new(),
    }
    .inventory();
    let mut out = String::new();
    if rng.one_in(10) {
        out.push_str("# generated\n---\n");
    }
    if let Node::Map(entries) = &top {
        block_map(rng, entries, 0, &mut out);
    }
    out.into_bytes()
}

/// Tokens for byte soup: YAML syntax and the inventory's own keys, so that soup gets past the
/// YAML parser often enough to reach the decoder.
const TOKENS: &[&str] = &[
    "version",
    "registries",
    "mirrors",
    "url",
    "ca",
    "client",
    "cert",
    "key",
    "headers",
    "auth",
    "basicFrom",
    "bearerFrom",
    "tokenFile",
    "file",
    "provider",
    "fallback",
    "server",
    "credentialProviders",
    "name",
    "matchImages",
    "defaultCacheDuration",
    "args",
    "env",
    "tokenAttributes",
    "paths",
    "modes",
    "target",
    "1",
    "docker.io",
    "https://m.example",
    ":",
    ": ",
    "\n",
    "\n  ",
    "\n    ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "|\n",
    ">\n",
    "'",
    "\"",
    "# c",
    "? ",
    "<<: ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\\",
    "\t",
    "~",
    "null",
    "true",
    "0x10",
    "\u{feff}",
    "\u{0}",
];

fn arbitrary_bytes(rng: &mut Rng, _corpus: &[Vec<u8>]) -> Vec<u8> {
    let len = if rng.one_in(10) {
        rng.below(4096)
    } else {
        rng.below(200)
    };
    match rng.below(4) {
        0 => (0..len).map(|_| rng.next_u64() as u8).collect(),
        1 => {
            let alphabet = b"version: 1\nregistries:-[]{}&*!|>'\"#%@,?\t\\ ~0x.";
            (0..len).map(|_| *rng.pick(alphabet)).collect()
        }
        2 => {
            let mut out = String::new();
            while out.len() < len {
                out.push_str(rng.pick::<&str>(TOKENS));
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
    let bytes = rng.pick(corpus).clone();
    let mutations = if rng.one_in(2) { 1 } else { 2 + rng.below(3) };
    mutate(rng, bytes, mutations, corpus, TOKENS, b": ", |rng| {
        let mut text = String::new();
        flow(&random_structure(rng, 3), &mut text);
        text
    })
}

/// Applies `mutations` random edits to `bytes`: byte and bit flips, truncation, deletion,
/// insertion of a `tokens` entry, duplicated, swapped or re-indented lines, the value after a
/// `separator` replaced with a `value`, a line of a `corpus` input spliced in.
fn mutate(
    rng: &mut Rng,
    mut bytes: Vec<u8>,
    mutations: usize,
    corpus: &[Vec<u8>],
    tokens: &[&str],
    separator: &[u8],
    value: fn(&mut Rng) -> String,
) -> Vec<u8> {
    for _ in 0..mutations {
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
                let token = rng.pick(tokens).as_bytes().to_vec();
                bytes.splice(at..at, token);
            }
            6 => {
                // Duplicate a line, or swap two.
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
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
                if let Some(found) = bytes[at..]
                    .windows(separator.len())
                    .position(|w| w == separator)
                {
                    let start = at + found + separator.len();
                    let end = bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |e| start + e);
                    bytes.splice(start..end, value(rng).into_bytes());
                }
            }
            _ => {
                // Splice in a line of another corpus file.
                let other = rng.pick(corpus);
                let lines: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                let mut line = rng.pick(&lines).to_vec();
                line.push(b'\n');
                let at = bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                bytes.splice(at..at, line);
            }
        }
    }
    bytes
}

fn random_structure(rng: &mut Rng, depth: usize) -> Node {
    let text = |rng: &mut Rng, parts| {
        Gen {
            rng,
            wild: 10,
            providers: Vec::new(),
        }
        .text(parts, true)
    };
    match rng.below(if depth == 0 { 1 } else { 4 }) {
        0 => raw(scalar(&text(rng, 3), rng)),
        1 => Node::List(
            (0..rng.below(4))
                .map(|_| random_structure(rng, depth - 1))
                .collect(),
        ),
        _ => Node::Map(
            (0..rng.below(4))
                .map(|_| {
                    let k = if rng.one_in(2) {
                        rng.pick(TOKENS).trim().to_string()
                    } else {
                        text(rng, 2)
                    };
                    (scalar(&k, rng), random_structure(rng, depth - 1))
                })
                .collect(),
        ),
    }
}

/// What the mutations start from: every valid inventory in the repository and generated ones
/// that load, four times as likely as the invalid fixtures. The alias bomb stays out: a
/// near-miss mutant of it costs a second, and the binary test below covers bombs.
fn corpus(seed: u64) -> Vec<Vec<u8>> {
    let fixtures = support::fixtures();
    let read = |path: &Path| fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut valid = vec![read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/inventory.yaml"),
    )];
    for entry in fs::read_dir(fixtures.join("render"))
        .expect("fixtures/render")
        .flatten()
    {
        valid.push(read(&entry.path().join("inventory.yaml")));
    }
    let mut rng = Rng::new(seed ^ 0xC0FFEE);
    let mut found = 0;
    for _ in 0..500 {
        let bytes = generated(&mut rng, &[]);
        if inventory::load_bytes("corpus.yaml", &bytes).is_ok() {
            valid.push(bytes);
            found += 1;
            if found == 20 {
                break;
            }
        }
    }
    let mut corpus: Vec<Vec<u8>> = valid
        .iter()
        .cycle()
        .take(valid.len() * 4)
        .cloned()
        .collect();
    for entry in fs::read_dir(fixtures.join("invalid"))
        .expect("fixtures/invalid")
        .flatten()
    {
        if entry.file_name() != "alias-bomb.yaml" {
            corpus.push(read(&entry.path()));
        }
    }
    corpus
}

// ---------------------------------------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    run_cases(
        "arbitrary bytes",
        seed,
        5000 * scale(),
        Vec::new(),
        arbitrary_bytes,
        check,
    );
}

#[test]
fn mutated_inventories_never_panic_and_accepted_ones_render_files_that_parse() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    let tally = run_cases(
        "mutated inventories",
        seed,
        6000 * scale(),
        corpus(seed),
        mutated,
        check,
    );
    assert!(
        tally.accepted * 40 >= tally.cases,
        "fewer than 1 in 40 mutants load ({} of {}): the mutations no longer reach the renderer",
        tally.accepted,
        tally.cases
    );
}

#[test]
fn generated_inventories_render_files_that_parse_back_to_the_inventory() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    let tally = run_cases(
        "generated inventories",
        seed,
        4000 * scale(),
        Vec::new(),
        generated,
        check,
    );
    assert!(
        tally.accepted * 4 >= tally.cases,
        "fewer than 1 in 4 generated inventories load ({} of {}): the generator drifted from the schema",
        tally.accepted,
        tally.cases
    );
}

/// Versions and `certsDir` values a containerd config.toml is edited for, and TOML pieces to
/// mutate one with.
const CONTAINERD_VERSIONS: &[&str] = &["1.6", "1.7", "2.0", "2.1", "2.2", "2.3"];
const CERTS_DIRS: &[&str] = &[
    "/etc/containerd/certs.d",
    "/etc/containerd/certs.d/",
    "/x y/ü",
    "/a\"b\\c",
    "/etc/'quoted'",
];
const TOML_TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    " = ",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "#",
    "\n",
    ".",
    ",",
    "{",
    "}",
    "version = 1\n",
    "version = 2\n",
    "version = 3\n",
    "version = 4\n",
    "version = \"2\"\n",
    "config_path = \"/x\"\n",
    "[plugins]\n",
    "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n",
    "[plugins.'io.containerd.cri.v1.images'.registry]\n",
    "[plugins.cri.registry]\n",
    "registry = {}\n",
    "mirrors = {}\n",
    "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors]\n",
    "\\",
    "\t",
    "\u{feff}",
    "\u{0}",
];

fn toml_value(rng: &mut Rng) -> String {
    rng.pick(&[
        "\"x\"",
        "'y'",
        "1",
        "-0",
        "inf",
        "nan",
        "true",
        "[1, \"a\"]",
        "{a = 1}",
        "{}",
        "[]",
        "1979-05-27T07:32:00Z",
        "\"\"\"multi\nline\"\"\"",
        "'''lit'''",
        "0x1F",
        "1_000",
        "\"\\u00e9\"",
        "{config_path = \"/y\"}",
        "{registry = {config_path = \"/z\"}}",
    ])
    .to_string()
}

/// A containerd version, a `certsDir` and a (mutated) config.toml, one per line before it.
fn containerd_config_case(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!(
        "{}\n{}\n",
        rng.pick(CONTAINERD_VERSIONS),
        rng.pick(CERTS_DIRS)
    )
    .into_bytes();
    let original = rng.pick(corpus).clone();
    let mutations = rng.below(4);
    out.extend(mutate(
        rng,
        original,
        mutations,
        corpus,
        TOML_TOKENS,
        b"= ",
        toml_value,
    ));
    out
}

/// `config_path` (and the tables it alone needed) removed from the table at `path`, and every
/// NaN made a string, so that two documents compare equal when they hold the same values.
fn without_config_path(mut doc: toml::Table, path: &[&str]) -> toml::Table {
    fn comparable(value: &mut toml::Value) {
        match value {
            toml::Value::Float(f) if f.is_nan() => *value = toml::Value::String("NaN".into()),
            toml::Value::Array(items) => items.iter_mut().for_each(comparable),
            toml::Value::Table(table) => table.iter_mut().for_each(|(_, v)| comparable(v)),
            _ => {}
        }
    }
    fn strip(table: &mut toml::Table, path: &[&str]) {
        match path.split_first() {
            None => {
                table.remove("config_path");
            }
            Some((first, rest)) => {
                if let Some(toml::Value::Table(inner)) = table.get_mut(*first) {
                    strip(inner, rest);
                    if inner.is_empty() {
                        table.remove(*first);
                    }
                }
            }
        }
    }
    strip(&mut doc, path);
    doc.iter_mut().for_each(|(_, v)| comparable(v));
    doc
}

/// Edits one config.toml; an accepted edit must parse, set `config_path` in a registry table to
/// `certsDir`, change nothing else, and be a no-op when repeated.
fn check_containerd_config(input: &[u8]) -> bool {
    use mirrorctl::render::containerd_config::{edit, registry_table};
    let mut parts = input.splitn(3, |&b| b == b'\n');
    let version = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let certs_dir = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let existing = parts.next().unwrap_or_default();
    let numbers: Vec<u32> = version.split('.').filter_map(|n| n.parse().ok()).collect();
    let containerd = mirrorctl::version::Version::new(numbers[0], numbers[1], 0);
    let file = "/etc/containerd/config.toml";
    let edited = edit(existing, file, containerd, &certs_dir);
    if edited.errors().next().is_some() {
        // Refused: the caller fails the run and never writes `contents`.
        return false;
    }
    let again = edit(&edited.contents, file, containerd, &certs_dir);
    assert!(
        again.errors().next().is_none() && again.contents == edited.contents,
        "editing the edited file again changes it:\n{}",
        String::from_utf8_lossy(&again.contents)
    );
    let text = std::str::from_utf8(&edited.contents).expect("the edit is UTF-8");
    let Some(before) = std::str::from_utf8(existing)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        // toml_edit accepted what the toml crate refuses: nothing to compare with.
        return true;
    };
    let after: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("the edited config.toml does not parse: {e}\n{text}"));
    let set_in = [1, 2, 3]
        .into_iter()
        .filter_map(registry_table)
        .find(|path| {
            path.iter()
                .try_fold(&after, |table, key| table.get(*key)?.as_table())
                .and_then(|t| t.get("config_path"))
                .and_then(toml::Value::as_str)
                == Some(certs_dir.as_str())
        })
        .unwrap_or_else(|| panic!("config_path is not set to {certs_dir:?}:\n{text}"));
    assert_eq!(
        without_config_path(after, &set_in),
        without_config_path(before, &set_in),
        "the edit changed more than config_path:\n{text}"
    );
    true
}

#[test]
fn containerd_config_edits_change_only_config_path_and_never_panic() {
    let seed = seed("MIRRORCTL_FUZZ_SEED");
    let corpus: Vec<Vec<u8>> = fs::read_dir(support::fixtures().join("containerd-config"))
        .expect("fixtures/containerd-config")
        .flatten()
        .filter_map(|entry| fs::read(entry.path().join("config.toml")).ok())
        .chain([Vec::new(), b"version = 3\n".to_vec()])
        .collect();
    let tally = run_cases(
        "containerd config.toml edits",
        seed,
        6000 * scale(),
        corpus,
        containerd_config_case,
        check_containerd_config,
    );
    assert!(
        tally.accepted * 10 >= tally.cases,
        "fewer than 1 in 10 config.toml cases are edited ({} of {})",
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
        let mut text = String::from(
            "version: 1\nx-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
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
    let deep_block_map: String = (0..3000)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    let mut over_limit = b"version: 1\n# ".to_vec();
    over_limit.resize(64 * 1024 * 1024 + 16, b'x');
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep flow sequences", "[".repeat(200_000).into_bytes()),
        ("deep flow mappings", "{a: ".repeat(100_000).into_bytes()),
        (
            "deep block sequences",
            format!("{}x\n", "- ".repeat(50_000)).into_bytes(),
        ),
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
        (
            "100k duplicate keys",
            "version: 1\n".repeat(100_000).into_bytes(),
        ),
        (
            "100k documents",
            "---\nversion: 1\n".repeat(100_000).into_bytes(),
        ),
        (
            "an unterminated quote",
            format!("version: \"{}", "x".repeat(1 << 20)).into_bytes(),
        ),
        (
            "invalid UTF-8",
            b"version: 1\nregistries:\n  \"\xff\xfe\": {}\n".to_vec(),
        ),
        ("NUL bytes", b"version: 1\0\nregistries: {}\n".to_vec()),
        ("complex keys", b"version: 1\n? [a, b]\n: c\n".to_vec()),
        (
            "directives, tags and a wrong type",
            b"%YAML 1.1\n%TAG ! tag:x,2000:\n---\nversion: !int 1\nregistries: !!seq []\n".to_vec(),
        ),
        (
            "anchors on deep nodes",
            format!(
                "version: 1\nx-a: {}1{}\n",
                "&a [".repeat(100),
                "]".repeat(100)
            )
            .into_bytes(),
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("inventory.yaml");
    let stderr_file = dir.path().join("stderr");
    let mut failures = Vec::new();
    for (name, bytes) in cases {
        fs::write(&file, &bytes).expect("write inventory");
        let started = Instant::now();
        // Output goes to a file: a message that quotes a huge value must not fill a pipe.
        let mut child = Command::new(BIN)
            .args(["render", "-i"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr_file).expect("stderr file"))
            .spawn()
            .expect("spawn mirrorctl");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            // A hang detector, not a speed test: an 8 MiB input takes ~8 s in a debug build.
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = started.elapsed();
        let stderr = fs::read(&stderr_file).expect("read stderr");
        let stderr = String::from_utf8_lossy(&stderr);
        let outcome = match status {
            None => "still running after 120 s".to_string(),
            Some(s) => match (s.code(), s.signal()) {
                (Some(code), _) => format!("exit {code}"),
                (None, signal) => format!("killed by signal {signal:?}"),
            },
        };
        eprintln!(
            "{name}: {outcome} in {took:?}, {} bytes of message",
            stderr.len()
        );
        if !(outcome == "exit 1" && stderr.starts_with("error: ") && !stderr.contains("panicked")) {
            failures.push(format!(
                "{name}: expected exit 1 and a message, got {outcome} after {took:?}\n{}",
                stderr.chars().take(500).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Regression: an inventory is cut short by its first NUL byte. yaml-rust2's scanner reads NUL
/// as the end of the stream, so `version: 1\nregistries:\n  a: …\n\0  b: …` loaded as an
/// inventory without `b`, and apply then pruned b's files. A crash while the inventory was
/// being written leaves exactly that: a file whose tail is zeros.
#[test]
fn a_nul_byte_is_an_error_not_the_end_of_the_inventory() {
    let text = "version: 1\nregistries:\n  docker.io:\n    mirrors: [{url: \"https://m.example\"}]\n\0\0\0\0  quay.io:\n    mirrors: [{url: \"https://q.example\"}]\n";
    match inventory::load_bytes("inventory.yaml", text.as_bytes()) {
        Err(error) => assert!(error.to_string().contains("inventory.yaml"), "{error}"),
        Ok(inventory) => panic!(
            "a NUL byte was read as the end of the inventory: loaded {:?}, quay.io is lost",
            inventory
                .registries
                .iter()
                .map(|r| &r.name)
                .collect::<Vec<_>>()
        ),
    }
}

/// Regression: a provider's `args` and `env` values are written raw into the YAML config,
/// escaped as JSON, which leaves DEL (U+007F) and the C1 controls (U+0080–U+009F but U+0085)
/// unescaped; YAML 1.2 §5.1 allows no such character in a stream and the kubelet's go-yaml
/// reader refuses the whole file ("control characters are not allowed"). Either the loader
/// refuses them or the YAML writer escapes them (`\x7f`).
#[test]
fn a_control_character_in_a_provider_value_never_reaches_the_yaml_raw() {
    let text = "version: 1\ncredentialProviders:\n  - name: corp\n    matchImages: [docker.io]\n    defaultCacheDuration: 1h\n    args: [\"a\\x7fb\"]\n    env: {HTTPS_PROXY: \"c\\u0090d\"}\n";
    let Ok(inventory) = inventory::load_bytes("inventory.yaml", text.as_bytes()) else {
        return;
    };
    let desired = render::render(&inventory, &Secrets::unread(&inventory));
    let file = &desired.files[&inventory.paths.credential_provider_config];
    let yaml = String::from_utf8_lossy(&file.contents);
    let bad: Vec<char> = yaml.chars().filter(|&c| !yaml_printable(c)).collect();
    assert!(
        bad.is_empty(),
        "the CredentialProviderConfig holds {bad:?} raw, which the kubelet's YAML reader refuses:\n{yaml:?}"
    );
}
