//! `mirrorctl probe` against loopback servers that answer the way broken and hostile mirrors do
//! (huge headers, a dripping answer, garbage, an endless token body), and against one that
//! checks the credentials: no secret byte in any output. The real registries, containerd pulls
//! and token realm are in the e2e suite (scenarios 40-47).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::Node;

/// A loopback server answering every connection with `answer(request head)`; requests are
/// recorded. Its thread ends with the test binary.
fn serve(answer: impl Fn(&str, &mut TcpStream) + Send + 'static) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 1 << 16 {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&head).into_owned();
            record.lock().expect("lock").push(text.clone());
            answer(&text, &mut stream);
        }
    });
    (port, seen)
}

fn inventory(port: u16, extra: &str) -> String {
    format!(
        "version: 1\ntarget: {{containerd: \"2.1\", kubelet: \"1.34\"}}\nregistries:\n  docker.io:\n    mirrors:\n      - url: http://127.0.0.1:{port}\n{extra}    fallback: false\n"
    )
}

#[test]
fn hostile_answers_end_in_clear_errors_within_the_timeout() {
    let huge = serve(|_, s| {
        let mut bytes = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        bytes.extend(std::iter::repeat_n(b'a', 200_000));
        let _ = s.write_all(&bytes);
    });
    let drip = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        // One header byte every 100 ms, for ever (until the client hangs up).
        while s.write_all(b"a").is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let garbage = serve(|_, s| {
        let _ = s.write_all(b"\x00\x01\x02 not a registry\r\n\r\n");
    });
    let silent = serve(|_, s| {
        // Accepts, reads, never answers.
        std::thread::sleep(Duration::from_secs(10));
        let _ = s.write_all(b"");
    });
    let endless_realm = serve(|head, s| {
        if head.starts_with("GET /token") {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            while s.write_all(b"1000\r\n").is_ok()
                && s.write_all(&[b'x'; 4096]).is_ok()
                && s.write_all(b"\r\n").is_ok()
            {}
            return;
        }
        let port = s.local_addr().map(|a| a.port()).unwrap_or(0);
        let _ = s.write_all(format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"x\"\r\nContent-Length: 0\r\n\r\n").as_bytes());
    });
    for (port, expected) in [
        (huge.0, "header block longer than 65536 bytes"),
        (drip.0, "no complete answer within 1s"),
        (garbage.0, "the answer is not HTTP"),
        (silent.0, "no complete answer within 1s"),
        (
            endless_realm.0,
            "a body longer than the 4194304 bytes accepted",
        ),
    ] {
        let node = Node::new();
        node.inventory(&inventory(port, ""));
        let started = Instant::now();
        let run = node.run(
            "probe",
            &[
                "docker.io/library/x:1",
                "--timeout",
                "1",
                "--output",
                "json",
            ],
        );
        let took = started.elapsed();
        run.status(1);
        let json = run.json();
        let endpoint = &json["images"][0]["endpoints"][0];
        let error = endpoint["error"].as_str().unwrap_or("");
        assert!(
            error.contains(expected),
            "port {port}: error {error:?}, expected {expected:?}\n{}",
            run.stdout
        );
        assert_eq!(json["images"][0]["servedBy"], serde_json::Value::Null);
        // base and manifest: two requests at most 1 s each, plus the token.
        assert!(
            took < Duration::from_secs(4),
            "probe of :{port} took {took:?}"
        );
    }
}

#[test]
fn credentials_reach_the_mirror_and_no_output() {
    const USER: &str = "probe-user";
    const PASSWORD: &str = "pr0be-pass-7f3a";
    const TOKEN: &str = "header-token-91be";
    let basic = format!(
        "Basic {}",
        mirrorctl::secrets::base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let expected = basic.clone();
    let (port, seen) = serve(move |head, s| {
        let ok = head.contains(&format!("Authorization: {expected}\r\n"))
            && head.contains(&format!("X-Mirror-Token: {TOKEN}\r\n"));
        let answer = if !ok {
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"m\"\r\nContent-Length: 0\r\n\r\n".to_string()
        } else if head.starts_with("HEAD ") {
            "HTTP/1.1 200 OK\r\nDocker-Content-Digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\nContent-Length: 1234\r\n\r\n".to_string()
        } else {
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_string()
        };
        let _ = s.write_all(answer.as_bytes());
    });
    let node = Node::new();
    node.write("/etc/creds/user", &format!("{USER}\n"));
    node.write("/etc/creds/password", &format!("{PASSWORD}\n"));
    node.write("/etc/creds/token", &format!("{TOKEN}\n"));
    node.inventory(&inventory(
        port,
        "        headers: {X-Mirror-Token: {file: /etc/creds/token}}\n        auth: {basicFrom: {usernameFile: /etc/creds/user, passwordFile: /etc/creds/password}}\n",
    ));
    let text = node.run("probe", &["docker.io/library/x:1"]);
    text.status(0)
        .stdout_has("verdict: served by http://127.0.0.1:")
        .stdout_has("manifest digest sha256:0123456789abcdef");
    let json = node.run("probe", &["docker.io/library/x:1", "--output", "json"]);
    json.status(0);
    let value = json.json();
    assert_eq!(
        value["images"][0]["servedBy"],
        format!("http://127.0.0.1:{port}/v2")
    );
    assert_eq!(value["images"][0]["upstreamReached"], false);
    let prom = node.run(
        "probe",
        &["docker.io/library/x:1", "--output", "prometheus"],
    );
    prom.status(0)
        .stdout_has("mirrorctl_probe_image_via_mirror{image=\"docker.io/library/x:1\"} 1\n")
        .stdout_has("mirrorctl_probe_success 1\n");
    let textfile = node.dir.path().join("probe.prom");
    let all = node.run(
        "probe",
        &[
            "--output",
            "prometheus",
            "--textfile",
            textfile.to_str().expect("utf-8"),
        ],
    );
    all.status(0);
    let written = std::fs::read_to_string(&textfile).expect("textfile written");
    assert!(written.contains(&format!("mirrorctl_probe_endpoint_up{{registry=\"docker.io\",image=\"\",url=\"http://127.0.0.1:{port}/v2\",role=\"server\"}} 1\n")), "{written}");
    // The mirror saw the credentials on every request.
    let requests = seen.lock().expect("lock").clone();
    assert!(requests.len() >= 6, "{requests:?}");
    assert!(requests.iter().all(|r| r.contains(&basic)), "{requests:?}");
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("HEAD /v2/library/x/manifests/1?ns=docker.io HTTP/1.1\r\n")),
        "{requests:?}"
    );
    for secret in [PASSWORD, TOKEN, basic.trim_start_matches("Basic ")] {
        for run in [&text, &json, &prom, &all] {
            run.nowhere(secret);
        }
        assert!(!written.contains(secret), "the textfile holds a secret");
    }
}

#[test]
fn usage_and_setup_errors() {
    let node = Node::new();
    node.inventory(&inventory(1, ""));
    node.run("probe", &["--timeout", "0"]).status(64);
    // A wrong combination of options is a usage error, like every other one clap finds.
    node.run("probe", &["--output", "json", "--textfile", "x"])
        .status(64)
        .stderr_has("--textfile writes the prometheus format");
    node.run("probe", &["--textfile", "x"])
        .status(64)
        .stderr_has("--textfile writes the prometheus format")
        .stderr_has("Usage: mirrorctl probe [OPTIONS] [IMAGE]...");
    // --namespace needs a credentialPlugin to take grants from (this inventory has none).
    node.run("probe", &["--namespace", "team-a", "docker.io/library/x:1"])
        .status(1)
        .stderr_has("--namespace team-a: the inventory has no `credentialPlugin`");
    node.run("probe", &["not a ref!"])
        .status(1)
        .stderr_has("is not a valid image reference");
    // A CA file that is not there: containerd fails closed, probe names the file.
    node.inventory(
        &inventory(1, "        ca: /etc/missing-ca.pem\n").replace("http://", "https://"),
    );
    node.run("probe", &["docker.io/library/x:1"])
        .status(1)
        .stdout_has("cannot read")
        .stdout_has("missing-ca.pem");
}

#[test]
fn namespace_credentials_fetch_a_bearer_token_by_oauth_post() {
    const PASSWORD: &str = "grant-pass-5d1c";
    let forms = Arc::new(Mutex::new(Vec::new()));
    let record = forms.clone();
    let (port, seen) = serve(move |head, s| {
        let port = s.local_addr().map(|a| a.port()).unwrap_or(0);
        let answer = if head.starts_with("POST /token ") {
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = s.read_exact(&mut body);
            record
                .lock()
                .expect("lock")
                .push(String::from_utf8_lossy(&body).into_owned());
            "HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n{\"access_token\":\"tok-9\"}\n"
                .to_string()
        } else if head.contains("Authorization: Bearer tok-9\r\n") {
            "HTTP/1.1 200 OK\r\nDocker-Content-Digest: sha256:1111111111111111111111111111111111111111111111111111111111111111\r\n\r\n".to_string()
        } else {
            format!(
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"svc\"\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let _ = s.write_all(answer.as_bytes());
    });
    let node = Node::new();
    node.write("/u", "team-a-bot\n");
    node.write("/p", &format!("{PASSWORD}\n"));
    node.inventory(&format!(
        "{}credentialPlugin:\n  audience: a\n  grants: [{{registry: docker.io, namespace: team-a, usernameFile: /u, passwordFile: /p}}]\n",
        inventory(port, "")
    ));
    let run = node.run(
        "probe",
        &[
            "docker.io/library/x:1",
            "--namespace",
            "team-a",
            "--output",
            "json",
        ],
    );
    run.status(0).nowhere(PASSWORD).nowhere("tok-9");
    let json = run.json();
    assert_eq!(
        json["images"][0]["grant"],
        serde_json::json!({"field": "credentialPlugin.grants[0]", "registry": "docker.io"})
    );
    let steps = json["images"][0]["endpoints"][0]["steps"].to_string();
    assert!(
        steps.contains("OAuth POST with the credentials of --namespace"),
        "{steps}"
    );
    let forms = forms.lock().expect("lock").clone();
    assert!(
        forms.iter().any(|f| f == &format!("access_type=offline&client_id=containerd-client&grant_type=password&password={PASSWORD}&scope=repository%3Alibrary%2Fx%3Apull&service=svc&username=team-a-bot")),
        "{forms:?}"
    );
    // Another namespace gets no grant: an anonymous GET, which this realm does not serve.
    let run = node.run("probe", &["docker.io/library/x:1", "--namespace", "team-b"]);
    run.status(1)
        .stdout_has("the realm answered HTTP 401")
        .stdout_has("credentials for team-b/default: none")
        .nowhere(PASSWORD);
    node.run("probe", &["docker.io/library/x:1", "--namespace", "team-a"])
        .status(0)
        .stdout_has("credentials for team-a/default: credentialPlugin.grants[0] (docker.io)");
    assert!(seen.lock().expect("lock").iter().any(|r| r.starts_with("GET /token?scope=repository%3Alibrary%2Fx%3Apull&service=svc ")));
}

#[test]
fn redirects_are_followed_as_gos_client_does() {
    let (target, target_seen) = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nDocker-Content-Digest: sha256:2222222222222222222222222222222222222222222222222222222222222222\r\nContent-Length: 0\r\n\r\n");
    });
    let (port, _) = serve(move |head, s| {
        let answer = if head.starts_with("HEAD ") {
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{target}/blobs/m?X-Signature=presigned-secret\r\nContent-Length: 0\r\n\r\n"
            )
        } else {
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string()
        };
        let _ = s.write_all(answer.as_bytes());
    });
    let node = Node::new();
    node.write("/etc/creds/token", "redirect-token-1\n");
    node.inventory(&inventory(
        port,
        "        auth: {bearerFrom: {tokenFile: /etc/creds/token}}\n",
    ));
    let run = node.run("probe", &["docker.io/library/x:1"]);
    run.status(0)
        .stdout_has(&format!(
            "HTTP 307 to http://127.0.0.1:{target}/blobs/m: HTTP 200"
        ))
        .stdout_has("manifest digest sha256:2222")
        .nowhere("presigned-secret")
        .nowhere("redirect-token-1");
    let seen = target_seen.lock().expect("lock").clone();
    assert!(
        seen.iter()
            .all(|r| r.starts_with("HEAD /blobs/m?X-Signature=presigned-secret HTTP/1.1\r\n")),
        "{seen:?}"
    );
    // Another host: the mirror's Authorization stays behind.
    assert!(
        seen.iter().all(|r| !r.contains("Authorization")),
        "{seen:?}"
    );
}

#[test]
fn the_upstream_serving_is_said_prominently_and_fails_the_probe() {
    let (port, seen) = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nDocker-Content-Digest: sha256:3333333333333333333333333333333333333333333333333333333333333333\r\nContent-Length: 0\r\n\r\n");
    });
    let node = Node::new();
    // containerd 1.6.20 speaks plain HTTP to a loopback registry's own endpoint.
    node.inventory(&format!(
        "version: 1\ntarget: {{containerd: \"1.6.20\", kubelet: \"1.34\"}}\nregistries:\n  127.0.0.1:{port}:\n    mirrors:\n      - url: http://127.0.0.1:1\n"
    ));
    let image = format!("127.0.0.1:{port}/library/x:1");
    let run = node.run("probe", &[&image]);
    run.status(1)
        .stdout_has("THE UPSTREAM REGISTRY ITSELF")
        .stderr_has(&format!("(from the upstream http://127.0.0.1:{port}/v2)"));
    let json = node.run("probe", &[&image, "--output", "json"]).json();
    assert_eq!(json["images"][0]["upstreamReached"], true);
    assert_eq!(json["images"][0]["viaMirror"], false);
    assert_eq!(json["images"][0]["servedByRole"], "upstream");
    // The registry's own endpoint gets no `?ns=`.
    let requests = seen.lock().expect("lock").clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("HEAD /v2/library/x/manifests/1 HTTP/1.1\r\n")),
        "{requests:?}"
    );
    let prom = node.run("probe", &[&image, "--output", "prometheus"]);
    prom.status(1).stdout_has(&format!(
        "mirrorctl_probe_image_upstream_reached{{image=\"{image}\"}} 1\n"
    ));
}
