//! One entry point per parser, for coverage-guided fuzzing (the `fuzz/` crate runs them under
//! AFL++) and for the corpus replay that `cargo test` runs: each takes arbitrary bytes and
//! returns normally, whatever they hold. A panic is a bug, and so is a broken invariant, which
//! each target asserts (bounded messages, an edit that settles in one run).

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::error::{MAX_PER_CODE, Problem};
use crate::version::Version;

/// Longest field path or message any finding may carry, ellipsis and length note included.
const MAX_FINDING_TEXT: usize = 1200;

/// The inventory loader, validation and lint's rules; every finding is bounded and no code
/// has more than [`MAX_PER_CODE`] findings beside its summary line.
pub fn inventory(data: &[u8]) {
    let (parsed, mut findings) = crate::inventory::analyze_bytes(data);
    if let Some(inventory) = &parsed {
        findings.extend(crate::lint::warnings(inventory));
    }
    check_findings(&findings);
}

#[track_caller]
fn check_findings(findings: &[Problem]) {
    let mut per_code = std::collections::BTreeMap::new();
    for finding in findings {
        assert!(
            finding.path.len() <= MAX_FINDING_TEXT && finding.message.len() <= MAX_FINDING_TEXT,
            "unbounded finding: {} bytes of path, {} of message",
            finding.path.len(),
            finding.message.len()
        );
        if finding.omitted == 0 {
            *per_code.entry(finding.code).or_insert(0) += 1;
        }
    }
    for (code, count) in per_code {
        // Each stage (parser, decoder, validation, lint) caps its own; lint's own
        // sorting caps them together.
        assert!(count <= 4 * MAX_PER_CODE, "{count} findings of {code}");
    }
}

/// containerd's config.toml editor for a 1.x and a 2.x target: an edit it accepts is TOML, and
/// editing its own output again changes nothing (one apply settles any file).
pub fn containerd_config(data: &[u8]) {
    for containerd in [Version::new(1, 7, 0), Version::new(2, 1, 0)] {
        let certs = "/etc/containerd/certs.d";
        let once = crate::render::containerd_config::edit(data, "config.toml", containerd, certs);
        check_findings(&once.findings);
        if once.errors().next().is_some() {
            assert_eq!(once.contents, data, "a refused edit keeps the bytes");
            continue;
        }
        let text = std::str::from_utf8(&once.contents).expect("an accepted edit is UTF-8");
        assert!(
            text.parse::<toml_edit::DocumentMut>().is_ok(),
            "the edit is not TOML:\n{text}"
        );
        let twice = crate::render::containerd_config::edit(
            &once.contents,
            "config.toml",
            containerd,
            certs,
        );
        assert_eq!(
            String::from_utf8_lossy(&twice.contents),
            text,
            "a second edit changed the file"
        );
    }
}

/// Image references and `matchImages` patterns: the first line is a pattern, the rest an image
/// reference; both are parsed, normalized and matched as the kubelet and the plugin do.
pub fn image_pattern(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (pattern, reference) = text.split_once('\n').unwrap_or((&text, &text));
    let _ = crate::image_pattern::check_pattern(pattern, Version::new(1, 36, 0));
    let image = crate::image_pattern::normalize_image(reference);
    let name = image.as_ref().map_or(reference, |i| i.name.as_str());
    let outcome = crate::image_pattern::matches(pattern, name);
    if let Err(why) = outcome {
        // Every reason renders; a label is at most what the input holds.
        assert!(why.to_string().len() <= 2 * data.len() + 512);
    }
}

/// The credential plugin's request decoder, against a fixed mapping with grants.
pub fn credential_request(data: &[u8]) {
    let Some(mapping) = plugin_mapping() else {
        return;
    };
    if let Ok(answer) = crate::credential_plugin::answer(mapping, data, 1_700_000_000) {
        assert!(
            serde_json::from_str::<serde_json::Value>(&answer.json).is_ok(),
            "the answer is not JSON"
        );
    }
}

/// The mapping file the request target answers from, written once per process (0600, as the
/// plugin demands), with one grant whose credential files exist and one whose files do not.
fn plugin_mapping() -> Option<&'static PathBuf> {
    static MAPPING: OnceLock<Option<PathBuf>> = OnceLock::new();
    MAPPING
        .get_or_init(|| {
            use std::os::unix::fs::PermissionsExt;
            let dir = std::env::temp_dir().join(format!("mirrorctl-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            let secret = |name: &str| -> Option<String> {
                let path = dir.join(name);
                std::fs::write(&path, "fuzz\n").ok()?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).ok()?;
                Some(path.to_str()?.to_string())
            };
            let (user, pass) = (secret("user")?, secret("pass")?);
            let mapping = serde_json::json!({
                "version": 1,
                "audience": "mirrors.example",
                "cacheKeyType": "Image",
                "cacheDuration": "5m",
                "grants": [
                    {"registry": "docker.io", "namespace": "team-a", "serviceAccount": null,
                     "annotations": {}, "usernameFile": user, "passwordFile": pass},
                    {"registry": "*.example", "namespace": "team-b", "serviceAccount": "puller",
                     "annotations": {"mirrors.example/pipeline": "release"},
                     "usernameFile": "/nonexistent/user", "passwordFile": "/nonexistent/pass"}
                ]
            });
            let path = dir.join("mapping.json");
            std::fs::write(&path, mapping.to_string()).ok()?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).ok()?;
            Some(path)
        })
        .as_ref()
}

/// Go durations (`dialTimeout`, `defaultCacheDuration`, the plugin's cache duration): a value
/// parsed once parses again from its own canonical digits.
pub fn duration(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(nanos) = crate::duration::parse_go_duration(&text) {
        assert_eq!(
            crate::duration::parse_go_duration(&format!("{nanos}ns")),
            Some(nanos),
            "{text:?}"
        );
    }
}

/// A fuzz target: takes any bytes, returns normally or panics on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, for the fuzzer's binaries and the replay test.
pub const TARGETS: [(&str, Target); 5] = [
    ("inventory", inventory),
    ("containerd_config", containerd_config),
    ("image_pattern", image_pattern),
    ("credential_request", credential_request),
    ("duration", duration),
];
