//! Issue 14, "certificates checked": real certificates and keys made by the `openssl` CLI at
//! test time (RSA and EC P-256, an expired one dated in the past with `openssl ca`), put on a
//! node, and `mirrorctl lint --root` and `apply` run the way users run them.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{Node, have, require};

/// Runs `openssl ARGS…` in `dir`; the test fails with openssl's stderr when it does.
#[track_caller]
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Certificates and keys under the node's `/etc/pki`.
struct Pki<'a> {
    node: &'a Node,
}

impl<'a> Pki<'a> {
    fn new(node: &'a Node) -> Self {
        fs::create_dir_all(node.path("/etc/pki")).expect("mkdir");
        Pki { node }
    }

    fn dir(&self) -> std::path::PathBuf {
        self.node.path("/etc/pki")
    }

    /// A self-signed certificate `NAME.crt` with its key `NAME.key` (PKCS#8).
    fn self_signed(&self, name: &str, algorithm: &[&str], subject: &str, days: &str) {
        let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
        let mut args = vec!["req", "-x509", "-nodes", "-keyout", &key, "-out", &crt];
        args.extend_from_slice(&["-days", days, "-subj", subject]);
        args.extend_from_slice(algorithm);
        openssl(&self.dir(), &args);
    }

    /// A self-signed certificate valid from `start` to `end` (`YYYYMMDDHHMMSSZ`), which
    /// `openssl req` cannot date in the past but `openssl ca` can.
    fn dated(&self, name: &str, subject: &str, start: &str, end: &str) {
        let dir = self.dir().join(format!("{name}.ca"));
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("index.txt"), "").expect("index");
        fs::write(dir.join("serial"), "01\n").expect("serial");
        fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n",
        )
        .expect("config");
        openssl(
            &dir,
            &[
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
                "csr.pem", "-subj", subject,
            ],
        );
        openssl(
            &dir,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-selfsign",
                "-keyfile",
                "key.pem",
                "-in",
                "csr.pem",
                "-out",
                "../cert.tmp",
                "-notext",
                "-startdate",
                start,
                "-enddate",
                end,
            ],
        );
        fs::rename(
            self.dir().join("cert.tmp"),
            self.dir().join(format!("{name}.crt")),
        )
        .expect("rename");
        fs::remove_dir_all(&dir).expect("clean up the CA");
    }

    fn not_after(&self, name: &str) -> String {
        let out = openssl(
            &self.dir(),
            &[
                "x509",
                "-in",
                &format!("{name}.crt"),
                "-noout",
                "-enddate",
                "-dateopt",
                "iso_8601",
            ],
        );
        // `notAfter=2026-12-11 22:19:57Z` → RFC 3339.
        out.trim()
            .trim_start_matches("notAfter=")
            .replacen(' ', "T", 1)
    }

    fn concat(&self, into: &str, parts: &[&str]) {
        let text: String = parts
            .iter()
            .map(|p| fs::read_to_string(self.dir().join(p)).expect("read part"))
            .collect();
        fs::write(self.dir().join(into), text).expect("write");
    }
}

const RSA: &[&str] = &["-newkey", "rsa:2048"];
const EC: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// Every kind of file the bullet names, each under its own mirror so paths say which.
const INVENTORY: &str = "version: 1
registries:
  docker.io:
    mirrors:
      - url: https://good.example
        ca: /etc/pki/ca.crt
        client: [{cert: /etc/pki/rsa-client.crt, key: /etc/pki/rsa-client.key}, /etc/pki/ec-client.pem]
      - url: https://mismatch.example
        client: {cert: /etc/pki/ec-client.crt, key: /etc/pki/other-ec.key}
      - url: https://no-certificate.example
        ca: [/etc/pki/rsa-client.key, /etc/pki/trusted.pem, /etc/pki/garbage.pem]
      - url: https://expired.example
        ca: /etc/pki/expired.crt
      - url: https://soon.example
        ca: /etc/pki/soon.crt
";

fn node_with_every_case() -> Node {
    let node = Node::new();
    node.inventory(INVENTORY);
    let pki = Pki::new(&node);
    pki.self_signed("ca", RSA, "/O=Corp/CN=Corp Root CA", "3650");
    pki.self_signed("rsa-client", RSA, "/CN=node-1", "365");
    pki.self_signed("ec-client", EC, "/CN=node-ec", "365");
    pki.concat("ec-client.pem", &["ec-client.crt", "ec-client.key"]);
    openssl(
        &pki.dir(),
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "other-ec.key",
        ],
    );
    openssl(
        &pki.dir(),
        &["x509", "-in", "ca.crt", "-trustout", "-out", "trusted.pem"],
    );
    node.write(
        "/etc/pki/garbage.pem",
        "-----BEGIN CERTIFICATE-----\nMIIBCgKCAQEA\n-----END CERTIFICATE-----\n",
    );
    pki.dated(
        "expired",
        "/CN=old mirror",
        "20200101000000Z",
        "20210101100000Z",
    );
    pki.self_signed("soon", EC, "/CN=soon mirror", "10");
    node
}

/// (code, severity, path, message) of each finding.
fn findings(json: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                text(&f["code"]),
                text(&f["severity"]),
                text(&f["path"]),
                text(&f["message"]),
            )
        })
        .collect()
}

#[test]
fn issue_14_lint_root_reads_every_certificate_as_x509() {
    if !require("openssl", have("openssl")) {
        return;
    }
    let node = node_with_every_case();
    let soon = Pki::new(&node).not_after("soon");
    let report = node.run("lint", &["--format", "json"]);
    report.status(1);
    let found = findings(&report.json());
    let mirror = |i: usize, rest: &str| format!("registries.\"docker.io\".mirrors[{i}].{rest}");
    let expected = [
        (
            "N007",
            "error",
            mirror(1, "client[0].key"),
            "the private key in `/etc/pki/other-ec.key` does not belong to the certificate `CN=node-ec` in `/etc/pki/ec-client.crt` (the key's public half is not the certificate's public key): containerd refuses the pair and fails every pull through this mirror".to_string(),
        ),
        (
            "N002",
            "error",
            mirror(2, "ca[0]"),
            "`/etc/pki/rsa-client.key` holds no PEM CERTIFICATE block".to_string(),
        ),
        (
            "N002",
            "error",
            mirror(2, "ca[1]"),
            "`/etc/pki/trusted.pem` holds no PEM CERTIFICATE block".to_string(),
        ),
        (
            "N006",
            "error",
            mirror(2, "ca[2]"),
            "`/etc/pki/garbage.pem`: the CERTIFICATE block at line 1 is not an X.509 certificate: certificate: the length runs past the end of the data".to_string(),
        ),
        (
            "N008",
            "error",
            mirror(3, "ca[0]"),
            "`/etc/pki/expired.crt`: the certificate `CN=old mirror` expired on 2021-01-01T10:00:00Z: TLS through this mirror fails, so pulls go to the next endpoint or fail".to_string(),
        ),
        (
            "N101",
            "warning",
            mirror(4, "ca[0]"),
            format!("`/etc/pki/soon.crt`: the certificate `CN=soon mirror` expires on {soon}, in "),
        ),
    ];
    for (code, severity, path, message) in &expected {
        let finding = (
            code.to_string(),
            severity.to_string(),
            path.clone(),
            message.clone(),
        );
        // The days left depend on the second the certificate was made: a prefix for N101.
        let present = found.iter().any(|f| {
            (&f.0, &f.1, &f.2) == (&finding.0, &finding.1, &finding.2)
                && (f.3 == finding.3 || (*code == "N101" && f.3.starts_with(&finding.3)))
        });
        assert!(present, "{finding:#?}\nnot in {found:#?}");
    }
    assert_eq!(
        found.len(),
        expected.len(),
        "the good mirror has no findings: {found:#?}"
    );
    // The text format names the same files and dates, on the inventory's lines.
    let text = node.run("lint", &[]);
    text.status(1)
        .stdout_has("  13:13   error[N008] registries.\"docker.io\".mirrors[3].ca[0]: `/etc/pki/expired.crt`")
        .stdout_has(&format!("warning[N101] registries.\"docker.io\".mirrors[4].ca[0]: `/etc/pki/soon.crt`: the certificate `CN=soon mirror` expires on {soon}"))
        .stdout_has("5 errors, 1 warning, 0 notes");
    // No byte of a private key in any output.
    for key in ["rsa-client.key", "ec-client.key", "other-ec.key"] {
        let body = node.read(&format!("/etc/pki/{key}"));
        for line in body.lines().filter(|l| !l.starts_with("-----")) {
            report.nowhere(line);
            text.nowhere(line);
        }
    }
}

#[test]
fn issue_14_expiry_against_a_given_clock() {
    if !require("openssl", have("openssl")) {
        return;
    }
    let node = Node::new();
    node.inventory("version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n        ca: /etc/pki/ca.crt\n");
    let pki = Pki::new(&node);
    pki.dated("ca", "/CN=Corp CA", "20260101000000Z", "20261224100000Z");
    let at = |now: &str| {
        let now: i64 = now.parse().expect("unix seconds");
        let bytes = fs::read(node.inventory_path()).expect("inventory");
        mirrorctl::lint::lint_at("inventory.yaml", &bytes, Some(&node.root()), now)
            .findings
            .into_iter()
            .map(|f| format!("{:?} {} {}", f.severity, f.code, f.message))
            .collect::<Vec<_>>()
    };
    // 2026-12-24T10:00:00Z is 1798106400.
    let valid = "`/etc/pki/ca.crt`: the certificate `CN=Corp CA`";
    assert_eq!(at("1795514400"), Vec::<String>::new(), "30 days before");
    assert_eq!(
        at("1795514401"),
        [format!(
            "Warning N101 {valid} expires on 2026-12-24T10:00:00Z, in 29 days"
        )]
    );
    assert_eq!(
        at("1798106399"),
        [format!(
            "Warning N101 {valid} expires on 2026-12-24T10:00:00Z, within a day"
        )]
    );
    assert_eq!(
        at("1798106400"),
        [format!(
            "Warning N101 {valid} expires on 2026-12-24T10:00:00Z, within a day"
        )],
        "valid through its notAfter second, as Go's verifier counts"
    );
    assert_eq!(
        at("1798106401"),
        [format!(
            "Error N008 {valid} expired on 2026-12-24T10:00:00Z: TLS through this mirror fails, so pulls go to the next endpoint or fail"
        )]
    );
    assert_eq!(
        at("1767225599"),
        [format!(
            "Error N008 {valid} is not valid before 2026-01-01T00:00:00Z: TLS through this mirror fails until then"
        )]
    );
}

#[test]
fn issue_14_apply_refuses_a_key_that_is_not_the_certificates() {
    if !require("openssl", have("openssl")) {
        return;
    }
    let node = Node::new();
    node.inventory("version: 1\nregistries:\n  docker.io:\n    mirrors:\n      - url: https://m.example\n        ca: /etc/pki/old.crt\n        client: {cert: /etc/pki/client.crt, key: /etc/pki/client.key}\n");
    let pki = Pki::new(&node);
    pki.self_signed("client", EC, "/CN=node-1", "365");
    pki.self_signed("other", EC, "/CN=other", "365");
    pki.dated("old", "/CN=old CA", "20200101000000Z", "20210101000000Z");
    let good_key = node.read("/etc/pki/client.key");
    node.write("/etc/pki/client.key", &node.read("/etc/pki/other.key"));
    let hosts = "/etc/containerd/certs.d/docker.io/hosts.toml";
    for command in ["apply", "check", "diff"] {
        node.run(command, &[])
            .status(1)
            .stderr_has("refusing to write a hosts.toml that names a certificate or key containerd cannot use: 1 problem")
            .stderr_has("[N007] registries.\"docker.io\".mirrors[0].client[0].key: the private key in `/etc/pki/client.key` does not belong to the certificate `CN=node-1`");
    }
    assert!(!node.exists(hosts), "nothing written");
    let json = node.run("apply", &["--output", "json"]);
    let report = json.status(1).json();
    assert_eq!(report["error"]["kind"], "certificate", "{report:#}");
    assert_eq!(report["error"]["problems"][0]["code"], "N007", "{report:#}");
    assert_eq!(
        report["error"]["problems"][0]["field"],
        "registries.\"docker.io\".mirrors[0].client[0].key"
    );
    for line in good_key
        .lines()
        .chain(node.read("/etc/pki/other.key").lines())
    {
        if !line.starts_with("-----") {
            json.nowhere(line);
        }
    }
    // The right key: apply writes. An expired CA does not stop it (lint reports it, N008):
    // dates are a clock's judgement, and the files are still the ones containerd must be given.
    node.write("/etc/pki/client.key", &good_key);
    node.run("apply", &[]).status(2);
    assert!(node.exists(hosts));
    node.run("lint", &[])
        .status(1)
        .stdout_has("error[N008]")
        .stdout_has("expired on 2021-01-01T00:00:00Z");
    // A file not yet on the node is lint's N001, not a reason to refuse the hosts.toml.
    fs::remove_file(node.path("/etc/pki/old.crt")).expect("rm");
    node.run("check", &[]).status(0);
}

/// What mirrorctl reads from each certificate (subject, notAfter) is what `openssl x509` reads,
/// for every key type containerd accepts; each key matches its certificate (Ed25519: a note,
/// as OpenSSL writes its PKCS#8 without the public key).
#[test]
fn issue_14_reads_what_openssl_reads() {
    if !require("openssl", have("openssl")) {
        return;
    }
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "rsa",
            RSA,
            "/C=DE/O=Corp GmbH/OU=Platform/CN=registry.example",
        ),
        ("p256", EC, "/CN=p256.example/O=Café Ünïcode"),
        (
            "p384",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "/DC=example/DC=corp/CN=p384",
        ),
        (
            "p521",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
            "/emailAddress=ops@example.com/CN=p521",
        ),
        ("ed25519", &["-newkey", "ed25519"], "/CN=ed25519"),
    ];
    let node = Node::new();
    let pki = Pki::new(&node);
    let mut inventory = String::from("version: 1\nregistries:\n");
    for (name, algorithm, subject) in &cases {
        let mut args = algorithm.to_vec();
        args.push("-utf8");
        pki.self_signed(name, &args, subject, "20");
        inventory.push_str(&format!(
            "  {name}.example:\n    mirrors:\n      - url: https://{name}.example\n        ca: /etc/pki/{name}.crt\n        client: {{cert: /etc/pki/{name}.crt, key: /etc/pki/{name}.key}}\n"
        ));
    }
    node.inventory(&inventory);
    let report = node.run("lint", &["--format", "json"]);
    report.status(0);
    let found = findings(&report.json());
    for (name, _, _) in &cases {
        let shown = openssl(
            &pki.dir(),
            &[
                "x509",
                "-in",
                &format!("{name}.crt"),
                "-noout",
                "-subject",
                "-nameopt",
                "RFC2253,-esc_msb",
            ],
        );
        let subject = shown
            .trim()
            .trim_start_matches("subject=")
            .replace(',', ", ");
        let ca = format!("registries.\"{name}.example\".mirrors[0].ca[0]");
        let expires = format!(
            "`/etc/pki/{name}.crt`: the certificate `{subject}` expires on {}, in ",
            pki.not_after(name)
        );
        assert!(
            found
                .iter()
                .any(|f| f.0 == "N101" && f.2 == ca && f.3.starts_with(&expires)),
            "{expires}\nnot in {found:#?}"
        );
        let key = format!("registries.\"{name}.example\".mirrors[0].client[0].key");
        let key_findings: Vec<_> = found.iter().filter(|f| f.2 == key).collect();
        if *name == "ed25519" {
            assert_eq!(
                key_findings
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>(),
                ["N102"],
                "{found:#?}"
            );
        } else {
            assert!(key_findings.is_empty(), "{key_findings:#?}");
        }
    }
}
