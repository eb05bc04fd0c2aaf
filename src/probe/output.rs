//! The probe's report as text for a person, one JSON object (documented in the README), and
//! the node-exporter textfile format. No secret is in the report to begin with: steps carry
//! statuses, names and paths, never a header value, credential or token.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{EndpointReport, ImageReport, Report, Step};
use crate::grants::Identity;

fn ms(seconds: f64) -> String {
    format!("{:.1}ms", seconds * 1000.0)
}

fn endpoint_text(out: &mut String, i: usize, e: &EndpointReport, served: bool) {
    let state = match (&e.not_contacted, e.ok, served) {
        (Some(_), _, _) => "not contacted".to_string(),
        (None, true, true) => "SERVES".to_string(),
        (None, true, false) => "ok".to_string(),
        (None, false, _) => "FAILED".to_string(),
    };
    let _ = writeln!(out, "  {}. {} [{}] {state}", i + 1, e.url, e.role);
    if let Some(why) = &e.not_contacted {
        let _ = writeln!(out, "     {why}");
        return;
    }
    for s in &e.steps {
        let _ = writeln!(
            out,
            "     {:<8} {:<6} {:>9}  {}",
            s.name,
            if s.ok { "ok" } else { "FAIL" },
            ms(s.seconds),
            s.detail
        );
    }
    for c in &e.configured {
        for cert in &c.certs {
            let _ = writeln!(
                out,
                "     {} {}: {} (notAfter {})",
                c.kind,
                c.node_path,
                cert.subject,
                cert.not_after_text()
            );
        }
    }
    if let Some(d) = &e.digest {
        let _ = writeln!(out, "     manifest digest {d}");
    }
}

fn image_text(out: &mut String, r: &ImageReport, identity: Option<&Identity>) {
    let _ = writeln!(
        out,
        "image {} (registry {}, directory {})",
        r.image, r.registry, r.directory
    );
    if let Some(who) = identity {
        let pod = format!("{}/{}", who.namespace, who.service_account);
        let _ = match &r.grant {
            Some(super::Granted { field, registry }) => writeln!(
                out,
                "credentials for {pod}: {field} ({registry}), sent to every endpoint that challenges"
            ),
            None => writeln!(
                out,
                "credentials for {pod}: none, the plugin grants this pod nothing for the image"
            ),
        };
    }
    let _ = writeln!(out, "endpoints, in the order containerd tries them:");
    for (i, e) in r.endpoints.iter().enumerate() {
        endpoint_text(out, i, e, r.served_by == Some(i));
    }
    match r.served() {
        Some(e) if e.upstream => {
            let _ = writeln!(
                out,
                "verdict: served by {} [{}] — THE UPSTREAM REGISTRY ITSELF: this pull leaves the mirrors (containerd falls back silently)",
                e.url, e.role
            );
        }
        Some(e) => {
            let _ = writeln!(out, "verdict: served by {} [{}], a mirror", e.url, e.role);
        }
        None => {
            let _ = writeln!(
                out,
                "verdict: no endpoint serves it: containerd's pull would fail{}",
                if r.upstream_reached() {
                    " (after reaching the upstream registry itself)"
                } else {
                    ""
                }
            );
        }
    }
}

pub(crate) fn text(report: &Report) -> String {
    let mut out = String::new();
    for (n, image) in report.images.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        image_text(&mut out, image, report.identity.as_ref());
    }
    for (n, registry) in report.registries.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "registry {}:", registry.registry);
        if registry.endpoints.is_empty() {
            let _ = writeln!(
                out,
                "  no mirror or server: pulls go to the registry itself (not probed without an IMAGE)"
            );
        }
        for (i, e) in registry.endpoints.iter().enumerate() {
            endpoint_text(&mut out, i, e, false);
        }
    }
    out
}

fn step_json(s: &Step) -> Value {
    json!({"name": s.name, "ok": s.ok, "seconds": s.seconds, "detail": s.detail})
}

fn endpoint_json(e: &EndpointReport) -> Value {
    json!({
        "url": e.url,
        "role": e.role,
        "upstream": e.upstream,
        "contacted": e.not_contacted.is_none(),
        "notContacted": e.not_contacted,
        "ok": e.ok,
        "error": e.error,
        "seconds": e.seconds,
        "digest": e.digest,
        "serverCertificate": e.server_cert.as_ref().map(|c| json!({
            "subject": c.subject,
            "notAfter": c.not_after_text(),
        })),
        "configuredCertificates": e.configured.iter().flat_map(|c| c.certs.iter().map(move |cert| json!({
            "kind": c.kind,
            "file": c.node_path,
            "subject": cert.subject,
            "notAfter": cert.not_after_text(),
        }))).collect::<Vec<_>>(),
        "steps": e.steps.iter().map(step_json).collect::<Vec<_>>(),
    })
}

pub(crate) fn json(report: &Report) -> Value {
    json!({
        "ok": report.success(),
        "timeoutSeconds": report.timeout.as_secs_f64(),
        "identity": report.identity.as_ref().map(|i| json!({
            "namespace": i.namespace,
            "serviceAccount": i.service_account,
        })),
        "images": report.images.iter().map(|i| json!({
            "image": i.image,
            "registry": i.registry,
            "directory": i.directory,
            "servedBy": i.served().map(|e| e.url.clone()),
            "servedByRole": i.served().map(|e| e.role),
            "viaMirror": i.via_mirror(),
            "upstreamReached": i.upstream_reached(),
            "digest": i.served().and_then(|e| e.digest.clone()),
            "grant": i.grant.as_ref().map(|g| json!({
                "field": g.field,
                "registry": g.registry,
            })),
            "endpoints": i.endpoints.iter().map(endpoint_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "registries": report.registries.iter().map(|r| json!({
            "registry": r.registry,
            "endpoints": r.endpoints.iter().map(endpoint_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A label value in the exposition format: `\`, `"` and line feeds escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(String, String)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        self.samples
            .push((format!("{{{}}}", labels.join(",")), value.to_string()));
    }
}

fn bool_value(b: bool) -> u8 {
    u8::from(b)
}

/// The node-exporter textfile format: one family per metric, `mirrorctl_probe_` prefixed.
pub(crate) fn prometheus(report: &Report) -> String {
    let mut up = Family::new(
        "mirrorctl_probe_endpoint_up",
        "gauge",
        "1 when the endpoint answered the probe (base request 2xx; with an image, the manifest)",
    );
    let mut duration = Family::new(
        "mirrorctl_probe_endpoint_duration_seconds",
        "gauge",
        "Wall time of the endpoint's probe, every step included",
    );
    let mut expiry = Family::new(
        "mirrorctl_probe_certificate_expiry_seconds",
        "gauge",
        "Seconds until notAfter of the endpoint's server certificate and of each configured CA and client certificate (negative: expired)",
    );
    let mut via_mirror = Family::new(
        "mirrorctl_probe_image_via_mirror",
        "gauge",
        "1 when containerd would get the image from a mirror",
    );
    let mut upstream = Family::new(
        "mirrorctl_probe_image_upstream_reached",
        "gauge",
        "1 when the pull would reach the upstream registry itself",
    );
    let mut success = Family::new(
        "mirrorctl_probe_success",
        "gauge",
        "1 when the whole probe succeeded (its exit status 0)",
    );
    let mut time = Family::new(
        "mirrorctl_probe_last_run_timestamp_seconds",
        "gauge",
        "Unix time the probe ran",
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut endpoint = |registry: &str, image: &str, e: &EndpointReport| {
        if e.not_contacted.is_some() {
            return;
        }
        let labels = [
            ("registry", registry),
            ("image", image),
            ("url", e.url.as_str()),
            ("role", e.role),
        ];
        up.add(&labels, bool_value(e.ok));
        duration.add(&labels, format!("{:.6}", e.seconds));
        let mut certs: Vec<(&str, String, &super::CertInfo)> = Vec::new();
        if let Some(c) = &e.server_cert {
            certs.push(("server", e.url.clone(), c));
        }
        for c in &e.configured {
            for cert in &c.certs {
                certs.push((c.kind, c.node_path.clone(), cert));
            }
        }
        for (kind, file, cert) in certs {
            // One sample per certificate and endpoint, whatever number of images.
            if !seen.insert((e.url.clone(), kind, file.clone(), cert.subject.clone())) {
                continue;
            }
            expiry.add(
                &[
                    ("url", e.url.as_str()),
                    ("kind", kind),
                    ("file", file.as_str()),
                    ("subject", cert.subject.as_str()),
                ],
                cert.not_after - report.started,
            );
        }
    };
    for i in &report.images {
        for e in &i.endpoints {
            endpoint(&i.registry, &i.image, e);
        }
        via_mirror.add(&[("image", i.image.as_str())], bool_value(i.via_mirror()));
        upstream.add(
            &[("image", i.image.as_str())],
            bool_value(i.upstream_reached()),
        );
    }
    for r in &report.registries {
        for e in &r.endpoints {
            endpoint(&r.registry, "", e);
        }
    }
    success.add(&[], bool_value(report.success()));
    time.add(&[], report.started);
    let mut out = String::new();
    for family in [up, duration, expiry, via_mirror, upstream, success, time] {
        if family.samples.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        for (labels, value) in &family.samples {
            let labels = if labels == "{}" { "" } else { labels.as_str() };
            let _ = writeln!(out, "{}{labels} {value}", family.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
