//! The credential plugin's grants for one pod identity and image, in the order the plugin
//! evaluates them: the one decision that `credential-provider` answers with and `resolve` shows.
//!
//! The plugin walks the mapping's grants in order. A grant applies when its namespace, service
//! account, annotations and registry pattern all fit; the first grant that applies for a
//! registry pattern answers under that key, and later grants for the same pattern are not used.
//! So with `[ci + annotation=release → A, ci → B]`, a pod annotated `other` gets B.

use std::collections::BTreeMap;

use crate::credential_plugin::MappingGrant;
use crate::image_pattern::{self, Mismatch};

/// Who is pulling: from the token's claims (the plugin) or the command line (`resolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub namespace: String,
    pub service_account: String,
}

/// Why a grant does not apply to this identity and image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Namespace,
    ServiceAccount,
    Image(Mismatch),
    Annotation {
        key: String,
        wanted: String,
        found: Option<String>,
    },
}

/// What the plugin does with one grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The plugin answers with this grant's credentials, keyed by its registry pattern.
    Answers,
    /// The answer depends on annotations that were not given: this grant answers if its own
    /// annotations are present (when `on_annotations`) and none of the earlier grants `unless`
    /// (same registry pattern, themselves conditional on annotations) applies.
    Depends {
        on_annotations: bool,
        unless: Vec<usize>,
    },
    /// It would apply, but the earlier grant `by` answers for the same registry pattern.
    Shadowed {
        by: usize,
    },
    Skipped(Skip),
}

/// One grant, where it stands in the mapping, and the plugin's verdict on it.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub index: usize,
    pub grant: MappingGrant,
    pub verdict: Verdict,
}

/// Every grant of `grants`, in the plugin's order, with its verdict for `identity` pulling
/// `image` (a normalized name, no tag). `annotations` are the service account's annotations
/// as the kubelet sends them; `None` when they are not known (`resolve` without
/// `--annotation`): grants that depend on them are then [`Verdict::Depends`], never guessed.
pub(crate) fn evaluate(
    grants: &[MappingGrant],
    identity: &Identity,
    annotations: Option<&BTreeMap<String, String>>,
    image: &str,
) -> Vec<Evaluation> {
    // Per registry pattern: the grant that answers for it, and the conditional grants before it.
    let mut answered: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pending: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut out = Vec::with_capacity(grants.len());
    for (index, grant) in grants.iter().enumerate() {
        let verdict = match own_conditions(grant, identity, annotations, image) {
            Err(skip) => Verdict::Skipped(skip),
            Ok(conditional) => {
                let registry = grant.registry.as_str();
                if let Some(&by) = answered.get(registry) {
                    Verdict::Shadowed { by }
                } else {
                    let unless = pending.get(registry).cloned().unwrap_or_default();
                    if conditional {
                        pending.entry(registry).or_default().push(index);
                    } else {
                        answered.insert(registry, index);
                    }
                    if conditional || !unless.is_empty() {
                        Verdict::Depends {
                            on_annotations: conditional,
                            unless,
                        }
                    } else {
                        Verdict::Answers
                    }
                }
            }
        };
        out.push(Evaluation {
            index,
            grant: grant.clone(),
            verdict,
        });
    }
    out
}

/// Whether `grant` itself fits: `Ok(true)` when it fits but for annotations that are not known.
fn own_conditions(
    grant: &MappingGrant,
    identity: &Identity,
    annotations: Option<&BTreeMap<String, String>>,
    image: &str,
) -> Result<bool, Skip> {
    if grant.namespace != identity.namespace {
        return Err(Skip::Namespace);
    }
    if grant
        .service_account
        .as_ref()
        .is_some_and(|sa| sa != &identity.service_account)
    {
        return Err(Skip::ServiceAccount);
    }
    image_pattern::matches(&grant.registry, image).map_err(Skip::Image)?;
    let Some(annotations) = annotations else {
        return Ok(!grant.annotations.is_empty());
    };
    match grant
        .annotations
        .iter()
        .find(|(key, wanted)| annotations.get(*key) != Some(wanted))
    {
        Some((key, wanted)) => Err(Skip::Annotation {
            key: key.clone(),
            wanted: wanted.clone(),
            found: annotations.get(key).cloned(),
        }),
        None => Ok(false),
    }
}

/// `credentialPlugin.grants[i]`, as the inventory names it.
pub(crate) fn field_path(index: usize) -> String {
    format!("credentialPlugin.grants[{index}]")
}

impl Evaluation {
    /// Who the grant is for: "namespace ci, any service account, only if annotated k=v".
    pub fn condition(&self) -> String {
        let grant = &self.grant;
        let mut text = format!("namespace {}", grant.namespace);
        match &grant.service_account {
            Some(sa) => text.push_str(&format!(", service account {sa}")),
            None => text.push_str(", any service account"),
        }
        if !grant.annotations.is_empty() {
            text.push_str(", only if annotated ");
            text.push_str(&annotation_list(&grant.annotations));
        }
        text
    }

    /// The verdict in words, naming other grants by their inventory path.
    pub fn outcome(&self) -> String {
        match &self.verdict {
            Verdict::Answers => "the plugin answers with this grant".into(),
            Verdict::Depends {
                on_annotations,
                unless,
            } => {
                let mut text = String::from("answers");
                if *on_annotations {
                    text.push_str(&format!(
                        " if the service account is annotated {}",
                        annotation_list(&self.grant.annotations)
                    ));
                }
                if !unless.is_empty() {
                    let earlier: Vec<String> = unless.iter().map(|i| field_path(*i)).collect();
                    text.push_str(&format!(
                        "{} unless {} applies",
                        if *on_annotations { "," } else { "" },
                        earlier.join(" or ")
                    ));
                }
                text
            }
            Verdict::Shadowed { by } => format!(
                "not used: {} answers first for `{}`",
                field_path(*by),
                self.grant.registry
            ),
            Verdict::Skipped(Skip::Namespace) => "skipped: another namespace".into(),
            Verdict::Skipped(Skip::ServiceAccount) => "skipped: another service account".into(),
            Verdict::Skipped(Skip::Image(why)) => {
                format!("skipped: `{}`: {why}", self.grant.registry)
            }
            Verdict::Skipped(Skip::Annotation { key, wanted, found }) => match found {
                Some(found) => {
                    format!("skipped: the service account's `{key}` is `{found}`, not `{wanted}`")
                }
                None => format!("skipped: the service account has no annotation `{key}`"),
            },
        }
    }

    /// The verdict's name in JSON.
    pub fn verdict_name(&self) -> &'static str {
        match self.verdict {
            Verdict::Answers => "answers",
            Verdict::Depends { .. } => "depends",
            Verdict::Shadowed { .. } => "shadowed",
            Verdict::Skipped(_) => "skipped",
        }
    }
}

fn annotation_list(annotations: &BTreeMap<String, String>) -> String {
    annotations
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(namespace: &str, annotations: &[(&str, &str)], user: &str) -> MappingGrant {
        MappingGrant {
            registry: "docker.io".into(),
            namespace: namespace.into(),
            service_account: None,
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            username_file: format!("/{user}/user"),
            password_file: format!("/{user}/pass"),
        }
    }

    fn verdicts(annotations: Option<&[(&str, &str)]>) -> Vec<Verdict> {
        let grants = [
            grant("ci", &[("role", "release")], "a"),
            grant("ci", &[], "b"),
            grant("ci", &[], "c"),
            grant("other", &[], "d"),
        ];
        let identity = Identity {
            namespace: "ci".into(),
            service_account: "default".into(),
        };
        let annotations: Option<BTreeMap<String, String>> = annotations.map(|a| {
            a.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        });
        evaluate(
            &grants,
            &identity,
            annotations.as_ref(),
            "docker.io/library/nginx",
        )
        .into_iter()
        .map(|e| e.verdict)
        .collect()
    }

    #[test]
    fn the_first_grant_that_applies_answers_for_its_registry() {
        assert_eq!(
            verdicts(Some(&[("role", "other")])),
            [
                Verdict::Skipped(Skip::Annotation {
                    key: "role".into(),
                    wanted: "release".into(),
                    found: Some("other".into())
                }),
                Verdict::Answers,
                Verdict::Shadowed { by: 1 },
                Verdict::Skipped(Skip::Namespace),
            ]
        );
        assert_eq!(
            verdicts(Some(&[("role", "release")]))[..3],
            [
                Verdict::Answers,
                Verdict::Shadowed { by: 0 },
                Verdict::Shadowed { by: 0 },
            ]
        );
        assert_eq!(
            verdicts(None)[..3],
            [
                Verdict::Depends {
                    on_annotations: true,
                    unless: Vec::new()
                },
                Verdict::Depends {
                    on_annotations: false,
                    unless: vec![0]
                },
                Verdict::Shadowed { by: 1 },
            ]
        );
    }
}
