//! The editor schema (`mirrorctl schema`, checked in as `schema/inventory.v1.json`): current,
//! field for field the decoder's, and accepted or refused by a real validator
//! (check-jsonschema) exactly where the decoder accepts or refuses.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};

use mirrorctl::inventory::{path, yaml};

use crate::support::{fixtures, have, require, run};

const SCHEMA_FILE: &str = "schema/inventory.v1.json";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn generated() -> String {
    let r = run(&["schema"], None);
    r.status(0);
    r.stdout.clone()
}

#[test]
fn schema_file_is_current() {
    let text = generated();
    let schema: Value = serde_json::from_str(&text).expect("`mirrorctl schema` prints JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let path = repo().join(SCHEMA_FILE);
    if std::env::var_os("MIRRORCTL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir schema/");
        std::fs::write(&path, &text).expect("write the schema");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == text,
        "{SCHEMA_FILE} is stale: regenerate with `MIRRORCTL_BLESS=1 cargo test --test lib schema`"
    );
}

/// One probe document: a field (or unknown key) at `path`, given a value the decoder must
/// accept (`valid`) or refuse with `code` at `path`.
#[derive(Debug)]
struct Probe {
    path: String,
    document: Value,
    valid: bool,
    code: &'static str,
}

/// A value the pattern accepts, for each pattern the schema uses: a new pattern needs one.
fn sample_for_pattern(pattern: &str) -> Value {
    match pattern {
        "^/" | "^/[^:]*$" => json!("/etc/mirrorctl/x"),
        "^https?://" => json!("https://mirror.example"),
        p if p.contains("ns|us") => json!("5s"),
        p if p.starts_with("^v?[0-9]") => json!("2.1"),
        p if p.starts_with("^(0o)?") => json!("0644"),
        p if p.starts_with("^([pP]") => json!("pull"),
        other => panic!("no sample for the pattern {other:?}: add one to tests/schema.rs"),
    }
}

/// The smallest value `schema` accepts (required properties only).
fn minimal(schema: &Value) -> Value {
    if let Some(values) = schema["enum"].as_array() {
        return values[0].clone();
    }
    if let Some(forms) = schema["anyOf"].as_array() {
        return minimal(&forms[0]);
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        return sample_for_pattern(pattern);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match types.first().copied() {
        Some("string") => json!("s"),
        Some("boolean") => json!(true),
        Some("array") => json!([minimal(&schema["items"])]),
        Some("object") => {
            let mut object = Map::new();
            let required: Vec<&str> = match schema["oneOf"].as_array() {
                Some(one) => one[0]["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect(),
                None => schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect(),
            };
            for name in required {
                object.insert(name.into(), minimal(&schema["properties"][name]));
            }
            if schema["properties"].is_null() && schema["additionalProperties"].is_object() {
                object.insert("k".into(), minimal(&schema["additionalProperties"]));
            }
            Value::Object(object)
        }
        other => panic!("no minimal value for {other:?}: {schema}"),
    }
}

/// A value of a shape `schema` does not take.
fn wrong(schema: &Value) -> Value {
    let accepts = |t: &str| -> bool {
        let direct = match &schema["type"] {
            Value::String(s) => s == t,
            Value::Array(ts) => ts.iter().any(|x| x == t),
            _ => false,
        };
        direct
            || schema["anyOf"]
                .as_array()
                .is_some_and(|forms| forms.iter().any(|f| f["type"] == t))
    };
    if schema["enum"].is_array() && !accepts("string") {
        json!([])
    } else if accepts("array") || accepts("object") {
        json!(true)
    } else if accepts("boolean") {
        json!("yes")
    } else {
        json!([])
    }
}

/// Every probe for the values under `schema` at `path`; `wrap` embeds a value there into a
/// whole document.
fn probes(schema: &Value, path: &str, wrap: &dyn Fn(Value) -> Value, out: &mut Vec<Probe>) {
    if let Some(values) = schema["enum"].as_array() {
        for value in values {
            out.push(Probe {
                path: path.to_string(),
                document: wrap(value.clone()),
                valid: true,
                code: "",
            });
        }
        out.push(Probe {
            path: path.to_string(),
            document: wrap(json!("not-one-of-them")),
            valid: false,
            code: "",
        });
    }
    let Some(properties) = schema["properties"].as_object() else {
        if let Some(items) = schema.get("items") {
            let item_path = format!("{path}[0]");
            probes(items, &item_path, &|v| wrap(json!([v])), out);
        } else if let Some(value) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            let entry_path = path::key(path, "k");
            probes(value, &entry_path, &|v| wrap(json!({ "k": v })), out);
        } else if let Some(forms) = schema["anyOf"].as_array() {
            for form in forms {
                probes(form, path, wrap, out);
            }
        }
        return;
    };
    let exactly_one = schema["oneOf"].is_array();
    let base = if exactly_one {
        Map::new()
    } else {
        minimal(schema).as_object().cloned().unwrap_or_default()
    };
    let with = |name: &str, value: Value| {
        let mut object = base.clone();
        object.insert(name.into(), value);
        wrap(Value::Object(object))
    };
    for (name, property) in properties {
        let field_path = path::key(path, name);
        out.push(Probe {
            path: field_path.clone(),
            document: with(name, minimal(property)),
            valid: true,
            code: "",
        });
        out.push(Probe {
            path: field_path.clone(),
            document: with(name, wrong(property)),
            valid: false,
            code: "S002",
        });
        probes(property, &field_path, &|v| with(name, v), out);
        if base.contains_key(name.as_str()) && !exactly_one {
            let mut without = base.clone();
            without.remove(name.as_str());
            out.push(Probe {
                path: path.to_string(),
                document: wrap(Value::Object(without)),
                valid: false,
                code: "S003",
            });
        }
    }
    out.push(Probe {
        path: path::key(path, "zzUnknown"),
        document: with("zzUnknown", json!("s")),
        valid: false,
        code: "S001",
    });
}

fn all_probes() -> Vec<Probe> {
    let schema: Value = serde_json::from_str(&generated()).expect("schema JSON");
    let mut out = Vec::new();
    probes(&schema, "", &|v| v, &mut out);
    out
}

/// The decoder's structural problems (unknown keys, types, missing and exclusive fields): the
/// ones the schema describes. Semantic rules (validation) may still refuse a probe's values.
fn structural(document: &str) -> Vec<(String, String)> {
    let (_, problems) = mirrorctl::inventory::analyze(document);
    problems
        .into_iter()
        .filter(|p| p.code.as_str().starts_with('S') || p.code.as_str().starts_with('Y'))
        .map(|p| (p.code.as_str().to_string(), p.path))
        .collect()
}

#[test]
fn every_field_of_the_schema_is_one_the_decoder_reads_with_that_type() {
    let probes = all_probes();
    assert!(probes.len() > 100, "only {} probes", probes.len());
    let mut mismatches = Vec::new();
    for probe in &probes {
        let text = probe.document.to_string();
        let found = structural(&text);
        if probe.valid {
            if !found.is_empty() {
                mismatches.push(format!(
                    "{}: the schema accepts {text}, the decoder says {found:?}",
                    probe.path
                ));
            }
        } else if probe.code.is_empty() {
            // A value outside an enum: refused, by the decoder or its validation, at the field.
            let (_, problems) = mirrorctl::inventory::analyze(&text);
            if !problems.iter().any(|p| p.path.starts_with(&probe.path)) {
                mismatches.push(format!(
                    "{}: the schema refuses {text}, the decoder accepts it",
                    probe.path
                ));
            }
        } else if !found
            .iter()
            .any(|(code, path)| code == probe.code && *path == probe.path)
        {
            mismatches.push(format!(
                "{}: expected {} from {text}, the decoder says {found:?}",
                probe.path, probe.code
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es) between the schema and the decoder:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Every key the decoder accepts in a real inventory is in the schema: the fixtures that
/// decode without a structural problem use only keys the schema lists.
fn valid_fixtures() -> Vec<PathBuf> {
    let mut files = vec![repo().join("examples/inventory.yaml")];
    let dirs = ["render", "lint", "resolve"];
    for dir in dirs {
        let mut found: Vec<PathBuf> = walk(&fixtures().join(dir))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .filter(|p| p.file_name().is_some_and(|n| n != "expected.yaml"))
            .filter(|p| {
                let text = std::fs::read_to_string(p).expect("fixture");
                let (inventory, problems) = mirrorctl::inventory::analyze(&text);
                inventory.is_some()
                    && problems
                        .iter()
                        .all(|p| p.severity != mirrorctl::error::Severity::Error)
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Bad enum values (`fetch` as a capability, `v1` as an apiVersion) in the lint fixtures.
const BAD_ENUMS: &[&str] = &[
    "lint/M003-M004-M005-capabilities.yaml",
    "lint/K-kubelet-validation.yaml",
];

/// The invalid fixtures of the kinds a schema can see: an unknown key, a wrong type, a missing
/// required field or `auth` with other than one form (S001, S002, S003, S005), and no YAML-level
/// problem (an alias bomb would cost a validator gigabytes; merge keys are YAML's).
fn schema_invalid_fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walk(&fixtures().join("invalid"))
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("fixture");
            let (_, problems) = mirrorctl::inventory::analyze(&text);
            let code = |p: &mirrorctl::error::Problem| p.code.as_str().to_string();
            problems.iter().all(|p| !code(p).starts_with('Y'))
                && problems
                    .iter()
                    .any(|p| ["S001", "S002", "S003", "S005"].contains(&code(p).as_str()))
        })
        .collect();
    files.sort();
    files.extend(BAD_ENUMS.iter().map(|name| fixtures().join(name)));
    files
}

/// The keys of `node` that `schema` does not list, as field paths.
fn unlisted(node: &yaml::Node, schema: &Value, path: &str, out: &mut Vec<String>) {
    let schema = match schema["anyOf"].as_array() {
        Some(forms) => {
            let wanted = match &node.value {
                yaml::Value::Mapping(_) => "object",
                yaml::Value::Sequence(_) => "array",
                yaml::Value::Scalar { .. } => return,
            };
            match forms.iter().find(|f| f["type"] == wanted) {
                Some(form) => form,
                None => return,
            }
        }
        None => schema,
    };
    match &node.value {
        yaml::Value::Mapping(entries) => {
            for (k, v) in entries {
                let yaml::Value::Scalar { text: name, .. } = &k.value else {
                    continue;
                };
                let field_path = path::key(path, name);
                if let Some(property) = schema["properties"].get(name.as_str()) {
                    unlisted(v, property, &field_path, out);
                } else if schema["additionalProperties"].is_object() {
                    unlisted(v, &schema["additionalProperties"], &field_path, out);
                } else if !(schema["patternProperties"].get("^x-").is_some()
                    && name.starts_with("x-"))
                {
                    out.push(field_path);
                }
            }
        }
        yaml::Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                unlisted(item, &schema["items"], &format!("{path}[{i}]"), out);
            }
        }
        yaml::Value::Scalar { .. } => {}
    }
}

#[test]
fn every_key_of_every_valid_fixture_is_in_the_schema() {
    let schema: Value = serde_json::from_str(&generated()).expect("schema JSON");
    let mut missing = Vec::new();
    let files = valid_fixtures();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("fixture");
        let (root, _) = yaml::parse(&text).expect("a valid fixture parses");
        let mut keys = Vec::new();
        unlisted(&root, &schema, "", &mut keys);
        missing.extend(keys.into_iter().map(|k| format!("{}: {k}", file.display())));
    }
    assert!(files.len() > 20, "only {} valid fixtures", files.len());
    assert!(
        missing.is_empty(),
        "keys the decoder accepts that the schema does not list:\n{}",
        missing.join("\n")
    );
}

/// Runs check-jsonschema on `files`; the names of those it refused.
fn refused_by_validator(schema: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let output = Command::new("check-jsonschema")
        .arg("--schemafile")
        .arg(schema)
        .args(["--output-format", "json"])
        .args(files)
        .output()
        .expect("run check-jsonschema");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut refused: Vec<PathBuf> = report["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(report["parse_errors"].as_array().into_iter().flatten())
        .filter_map(|e| e["filename"].as_str())
        .map(PathBuf::from)
        .collect();
    refused.sort();
    refused.dedup();
    refused
}

#[test]
fn check_jsonschema_accepts_every_valid_inventory_and_refuses_every_invalid_one() {
    if !require("check-jsonschema", have("check-jsonschema")) {
        return;
    }
    let schema = repo().join(SCHEMA_FILE);
    let valid = valid_fixtures();
    assert!(valid.len() > 20, "only {} valid fixtures", valid.len());
    let refused = refused_by_validator(&schema, &valid);
    assert!(
        refused.is_empty(),
        "check-jsonschema refuses inventories mirrorctl accepts: {refused:?}"
    );
    let mut mismatches = Vec::new();
    let invalid = schema_invalid_fixtures();
    for name in [
        "unknown-keys.yaml",
        "wrong-types.yaml",
        "typo-of-a-required-field.yaml",
    ] {
        assert!(
            invalid.contains(&fixtures().join("invalid").join(name)),
            "{name} is one of them: {invalid:?}"
        );
    }
    for file in &invalid {
        let (_, problems) =
            mirrorctl::inventory::analyze(&std::fs::read_to_string(file).expect("fixture"));
        assert!(!problems.is_empty(), "{} is not invalid", file.display());
        if refused_by_validator(&schema, std::slice::from_ref(file)).is_empty() {
            mismatches.push(format!("{}: check-jsonschema accepts it", file.display()));
        }
    }
    // The probes: each field with a value of its type passes, and with another type, an
    // unknown key beside it, a required field left out or a value outside its enum fails.
    let dir = tempfile::tempdir().expect("temp dir");
    let probes = all_probes();
    let mut files = Vec::new();
    for (i, probe) in probes.iter().enumerate() {
        let file = dir.path().join(format!("probe-{i:04}.yaml"));
        std::fs::write(&file, probe.document.to_string()).expect("write probe");
        files.push(file);
    }
    let refused = refused_by_validator(&schema, &files);
    for (probe, file) in probes.iter().zip(&files) {
        let was_refused = refused.binary_search(file).is_ok();
        if probe.valid == was_refused {
            mismatches.push(format!(
                "{}: check-jsonschema {} {}",
                probe.path,
                if was_refused { "refuses" } else { "accepts" },
                probe.document
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_readme_shows_the_editor_line() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    assert!(
        readme.contains("# yaml-language-server: $schema="),
        "the README shows how an editor finds the schema"
    );
}
