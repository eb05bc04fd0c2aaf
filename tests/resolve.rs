//! `mirrorctl resolve`: a table of image references through one inventory, covering docker.io
//! normalization, ports, IPv6, `_default`, raw path-prefix patterns, per-label wildcards and
//! case sensitivity. The matcher is the one lint uses.

use mirrorctl::inventory;
use mirrorctl::resolve;

use crate::support::{fixtures, run};

const IMAGES: [&str; 44] = [
    "nginx",
    "nginx:1.27",
    "library/nginx:1.27",
    "docker.io/library/nginx",
    "index.docker.io/library/nginx",
    "docker.io/bitnami/redis:7",
    "bitnami/redis",
    "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "docker.io/library/nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "reg:5000/team/app",
    "reg:5000/teamx/app",
    "reg:5000/tea/app",
    "reg:5000/other/app:2",
    "reg/team/app",
    "reg:5001/team/app",
    "[::1]:5000/app",
    "[::1]:5000/team/app:3",
    "[::1]/app",
    "quay.io/org/app",
    "quay.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "a.quay.io/org/app",
    "ghcr.io/org/app",
    "ghcr.io/org/app:v1.2.3",
    "gcr.io/project/img",
    "registry.k8s.io/pause:3.10",
    "a.b.example.com/x",
    "a.example.com/x",
    "a.b.c.example.com/x",
    "localhost/app",
    "localhost:5000/app",
    "127.0.0.1:5000/app",
    "my.registry.internal/team/app",
    "public.ecr.aws/org/app",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
    "mcr.microsoft.com/dotnet/runtime:8.0",
    "docker.io/nginx",
    "ubuntu:24.04",
    "k8s.gcr.io/pause",
    "example.io:443/app",
    "Nginx",
    "nginx:",
    "ghcr.io/Org/app",
    "nginx@sha256:nothex",
    "",
];

#[test]
fn resolve_table() {
    let mut table = String::new();
    for fixture in ["inventory.yaml", "no-default.yaml"] {
        let text =
            std::fs::read_to_string(fixtures().join("resolve").join(fixture)).expect("fixture");
        let inventory = inventory::load_str(fixture, &text).expect("valid");
        table.push_str(&format!("######## {fixture}\n"));
        for image in IMAGES {
            table.push_str(&format!("{image:?}\n"));
            match resolve::resolve(&inventory, image) {
                Err(why) => table.push_str(&format!("  invalid: {why}\n")),
                Ok(r) => {
                    table.push_str(&format!("  name {} dir {}\n", r.image.name, r.directory));
                    let endpoints: Vec<String> = r
                        .endpoints
                        .iter()
                        .map(|e| {
                            format!(
                                "{} {}{}",
                                e.role,
                                e.url,
                                if e.used { "" } else { " (skipped)" }
                            )
                        })
                        .collect();
                    table.push_str(&format!("  endpoints: {}\n", endpoints.join(" -> ")));
                    let runs: Vec<&str> = r
                        .providers
                        .iter()
                        .filter(|p| p.runs)
                        .map(|p| p.name.as_str())
                        .collect();
                    table.push_str(&format!(
                        "  providers: {}\n",
                        if runs.is_empty() {
                            "none".into()
                        } else {
                            runs.join(", ")
                        }
                    ));
                }
            }
        }
    }
    insta::assert_snapshot!(table);
}

#[test]
fn resolve_cli_text_json_and_invalid_reference() {
    let inventory = fixtures().join("resolve/inventory.yaml");
    let inventory = inventory.to_str().expect("utf-8");
    let text = run(&["resolve", "quay.io/org/app:1", "-i", inventory], None);
    text.status(0)
        .stdout_has("1. https://quay-mirror.example/prefix [mirror] pull,resolve")
        .stdout_has("override_path")
        .stdout_has("Basic <redacted: from /etc/u and /etc/p>")
        .stdout_has("2. https://quay-proxy.example/v2 [server]");
    let json = run(
        &["resolve", "nginx", "-i", inventory, "--output", "json"],
        None,
    )
    .status(0)
    .json();
    assert_eq!(json["image"]["name"], "docker.io/library/nginx");
    assert_eq!(json["directory"], "docker.io");
    assert_eq!(json["endpoints"][0]["url"], "https://hub-mirror.example/v2");
    assert_eq!(json["endpoints"][1]["role"], "server");
    assert_eq!(
        json["endpoints"][1]["used"], false,
        "a pull-only server cannot resolve a tag"
    );
    let runs: Vec<&str> = json["credentialProviders"]
        .as_array()
        .expect("providers")
        .iter()
        .filter(|p| p["runs"] == true)
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(runs, ["hub", "io-wildcard", "library-only"]);
    run(&["resolve", "Nginx:latest", "-i", inventory], None)
        .status(1)
        .stderr_has("not a valid image reference");
}
