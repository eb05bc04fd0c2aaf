//! The inventory's fields, declared once: each section's names, kinds, descriptions, enum
//! values, patterns, defaults and which are required. The decoder takes its known keys and its
//! type checks from these tables; `mirrorctl schema` walks the same tables, so the editor schema
//! and the decoder cannot disagree on what a field is.

/// One field of a mapping with known keys.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
    /// What an absent field means, when it means one fixed value.
    pub(crate) default: Option<Default>,
}

/// A default value, as the schema shows it.
#[derive(Debug)]
pub(crate) enum Default {
    Bool(bool),
    Str(&'static str),
    Strs(&'static [&'static str]),
}

/// What a field's value may be.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A string (a quoted scalar, or a plain one that is not a number, boolean or null);
    /// `pattern` (ECMA-262) and `values` only where the decoder or validation knows them;
    /// `any_case`: the values are matched ignoring ASCII case.
    Str {
        pattern: Option<&'static str>,
        values: &'static [&'static str],
        any_case: bool,
    },
    Bool,
    /// `version: 1`.
    InventoryVersion,
    /// `"2.1"`, also unquoted: read from its source text.
    Version,
    /// An octal file mode like `"0644"`, also unquoted.
    Mode,
    /// A Go duration string like `"5s"`.
    Duration,
    List(&'static Kind),
    /// A mapping whose keys are free (registry names, header and variable names).
    Map {
        key: &'static str,
        value: &'static Kind,
    },
    Object(&'static Object),
    /// Any one of several forms (`ca`: a path, `{pem}`, or a list of both).
    OneOf(&'static [Kind]),
}

/// A mapping with known keys.
#[derive(Debug)]
pub(crate) struct Object {
    pub(crate) fields: &'static [Field],
    /// Exactly one of the fields must be given (`auth`).
    pub(crate) exactly_one: bool,
    /// Keys starting with `x-` are free (the top level: a home for YAML anchors).
    pub(crate) extensions: bool,
}

impl Object {
    pub(crate) fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The string default of the field `name` ("" when the table gives none: a test holds
    /// every field the decoder defaults to have one).
    pub(crate) fn default_str(&self, name: &str) -> &'static str {
        match self.field(name).and_then(|f| f.default.as_ref()) {
            Some(Default::Str(s)) => s,
            _ => "",
        }
    }

    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
}

impl Kind {
    /// The phrase type errors use for what was expected.
    pub(crate) fn expected(&self) -> &'static str {
        match self {
            Kind::Str { .. } | Kind::Duration => "a string",
            Kind::Bool => "a boolean (true or false)",
            Kind::InventoryVersion => "`1`",
            Kind::Version => "a version like \"2.1\"",
            Kind::Mode => "an octal file mode like \"0644\"",
            Kind::List(_) => "a list",
            Kind::Map { key, .. } => key,
            Kind::Object(_) => "a mapping",
            Kind::OneOf(_) => "one of the forms the field takes",
        }
    }
}

const fn field(name: &'static str, kind: Kind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        required: false,
        description,
        default: None,
    }
}

const fn required(name: &'static str, kind: Kind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        required: true,
        description,
        default: None,
    }
}

const fn defaulted(
    name: &'static str,
    kind: Kind,
    default: Default,
    description: &'static str,
) -> Field {
    Field {
        name,
        kind,
        required: false,
        description,
        default: Some(default),
    }
}

const fn object(fields: &'static [Field]) -> Object {
    Object {
        fields,
        exactly_one: false,
        extensions: false,
    }
}

const STRING: Kind = Kind::Str {
    pattern: None,
    values: &[],
    any_case: false,
};
const STRINGS: Kind = Kind::List(&STRING);
/// A node path: absolute (the node-path check says more: normalized, no `..`).
const NODE_PATH: Kind = Kind::Str {
    pattern: Some("^/"),
    values: &[],
    any_case: false,
};
/// The certs directory: a node path without `:`, which containerd's `config_path` splits at.
const CERTS_DIR: Kind = Kind::Str {
    pattern: Some("^/[^:]*$"),
    values: &[],
    any_case: false,
};
/// A mirror or server URL: the scheme is required, and only these two are accepted.
const URL: Kind = Kind::Str {
    pattern: Some("^https?://"),
    values: &[],
    any_case: false,
};

/// The capabilities containerd knows (`Capability::ALL`; a unit test holds them equal).
pub(crate) const CAPABILITIES: &[&str] = &["pull", "resolve", "push", "referrers"];
/// The credential provider APIs (`gates::PROVIDER_API_VERSIONS`).
pub(crate) const PROVIDER_API_VERSIONS: &[&str] = &[
    "credentialprovider.kubelet.k8s.io/v1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
];
/// The kubelet's `tokenAttributes.cacheType` values.
pub(crate) const CACHE_TYPES: &[&str] = &["ServiceAccount", "Token"];

pub(crate) static ROOT: Object = Object {
    fields: &[
        required(
            "version",
            Kind::InventoryVersion,
            "The inventory format's version; this mirrorctl reads `1`.",
        ),
        field(
            "target",
            Kind::Object(&TARGET),
            "The containerd and kubelet versions on the nodes: they gate version-dependent output and rules.",
        ),
        field(
            "paths",
            Kind::Object(&PATHS),
            "Node paths where containerd and the kubelet read the files mirrorctl writes.",
        ),
        field(
            "modes",
            Kind::Object(&MODES),
            "File modes of the written files.",
        ),
        field(
            "registries",
            Kind::Map {
                key: "a mapping of registry name to settings",
                value: &Kind::Object(&REGISTRY),
            },
            "Per registry, as written in image references (`docker.io`, `reg:5000`, `[::1]:5000`; `*` is containerd's `_default`): its mirrors, in the order containerd tries them.",
        ),
        field(
            "credentialProviders",
            Kind::List(&Kind::Object(&PROVIDER)),
            "The kubelet's credential providers, written into its CredentialProviderConfig.",
        ),
        field(
            "containerd",
            Kind::Object(&CONTAINERD),
            "Whether mirrorctl sets `config_path` in containerd's own config.toml.",
        ),
        field(
            "credentialPlugin",
            Kind::Object(&PLUGIN),
            "mirrorctl as the kubelet's credential provider: mirror credentials per namespace and service account, deny by default.",
        ),
    ],
    exactly_one: false,
    extensions: true,
};

pub(crate) static TARGET: Object = object(&[
    defaulted(
        "containerd",
        Kind::Version,
        Default::Str("2.1"),
        "containerd version on the nodes, MAJOR.MINOR or MAJOR.MINOR.PATCH (quote it: \"2.1\").",
    ),
    defaulted(
        "kubelet",
        Kind::Version,
        Default::Str("1.34"),
        "kubelet version on the nodes, MAJOR.MINOR or MAJOR.MINOR.PATCH (quote it: \"1.34\").",
    ),
    field(
        "kubeletFeatureGates",
        Kind::Object(&FEATURE_GATES_OBJECT),
        "How the node's kubelet is started where that changes what it accepts (mirrorctl sets no kubelet flags): gate name to on/off.",
    ),
]);

/// The kubelet feature gates mirrorctl knows (`KubeletFeatureGate::ALL`).
pub(crate) static FEATURE_GATES_OBJECT: Object = object(&[field(
    "KubeletServiceAccountTokenForCredentialProviders",
    Kind::Bool,
    "KEP-4412, service-account tokens for credential providers (`tokenAttributes`): alpha and off on kubelet 1.33, on from 1.34.",
)]);

pub(crate) static PATHS: Object = object(&[
    defaulted(
        "certsDir",
        CERTS_DIR,
        Default::Str("/etc/containerd/certs.d"),
        "containerd's `config_path`: one directory per registry, each with its hosts.toml.",
    ),
    defaulted(
        "credentialProviderConfig",
        NODE_PATH,
        Default::Str("/etc/kubernetes/credential-providers.yaml"),
        "The kubelet's `--image-credential-provider-config` file; a `.json` name is written as JSON.",
    ),
    defaulted(
        "credentialProviderBinDir",
        NODE_PATH,
        Default::Str("/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/bin"),
        "The kubelet's `--image-credential-provider-bin-dir`, where provider binaries live.",
    ),
    defaulted(
        "stateDir",
        NODE_PATH,
        Default::Str("/var/lib/mirrorctl"),
        "mirrorctl's ownership record and lock; never read by containerd or the kubelet.",
    ),
]);

pub(crate) static MODES: Object = object(&[
    defaulted(
        "hostsToml",
        Kind::Mode,
        Default::Str("0644"),
        "Mode of each hosts.toml (one carrying a secret header is always 0600).",
    ),
    defaulted(
        "credentialProviderConfig",
        Kind::Mode,
        Default::Str("0600"),
        "Mode of the kubelet's CredentialProviderConfig.",
    ),
]);

pub(crate) static REGISTRY: Object = object(&[
    required(
        "mirrors",
        Kind::List(&Kind::Object(&MIRROR)),
        "The mirrors containerd tries, in this order.",
    ),
    defaulted(
        "fallback",
        Kind::Bool,
        Default::Bool(true),
        "After the mirrors, try the registry itself; false: mirror-only, the last mirror becomes `server` and the upstream is never contacted.",
    ),
    field(
        "server",
        URL,
        "Replaces the upstream tried after the mirrors (an `http://` or `https://` URL).",
    ),
]);

pub(crate) static MIRROR: Object = object(&[
    required(
        "url",
        URL,
        "The mirror's URL, scheme required (https, or http for a plain-HTTP mirror); a path that does not end in /v2 infers `overridePath`.",
    ),
    defaulted(
        "capabilities",
        Kind::List(&Kind::Str {
            pattern: None,
            values: CAPABILITIES,
            any_case: true,
        }),
        Default::Strs(&["pull", "resolve"]),
        "What containerd may use the mirror for; `referrers` needs containerd 2.2. Never empty (containerd reads [] as every capability).",
    ),
    field(
        "ca",
        Kind::OneOf(&[STRING, Kind::Object(&CA_PEM), Kind::List(&CA_ONE)]),
        "CA certificates to trust: a node path, `{pem: \"…\"}` (written into the registry's directory), or a list of both.",
    ),
    field(
        "client",
        Kind::OneOf(&[STRING, Kind::Object(&CLIENT_PAIR), Kind::List(&CLIENT_ONE)]),
        "Client certificate: a combined PEM path, `{cert, key}` paths, or a list of both.",
    ),
    defaulted(
        "skipVerify",
        Kind::Bool,
        Default::Bool(false),
        "Skip TLS verification (written only when true); on an http:// URL it makes containerd 1.7.16+ try HTTPS first.",
    ),
    field(
        "overridePath",
        Kind::Bool,
        "The URL is the full API path (no /v2 appended); inferred true when the URL path does not end in /v2.",
    ),
    field(
        "headers",
        Kind::Map {
            key: "a mapping of header name to value",
            value: &HEADER_VALUES,
        },
        "HTTP headers sent to the mirror: a string, `{file: PATH}` read at apply time, or a list; inline credentials are refused.",
    ),
    field(
        "dialTimeout",
        Kind::Duration,
        "containerd's dial timeout for this mirror, a Go duration like \"5s\" (containerd 2.0.7+ / 2.1).",
    ),
    field(
        "auth",
        Kind::Object(&AUTH),
        "Credentials for the mirror, from exactly one of: a kubelet credential provider, username and password files, or a token file.",
    ),
]);

const CA_ONE: Kind = Kind::OneOf(&[STRING, Kind::Object(&CA_PEM)]);
pub(crate) static CA_PEM: Object = object(&[required(
    "pem",
    STRING,
    "The CA certificate's PEM text, written 0644 into the registry's directory as ca-<sha256 prefix>.pem.",
)]);

const CLIENT_ONE: Kind = Kind::OneOf(&[STRING, Kind::Object(&CLIENT_PAIR)]);
pub(crate) static CLIENT_PAIR: Object = object(&[
    required("cert", STRING, "Node path of the client certificate."),
    required("key", STRING, "Node path of the client certificate's key."),
]);

const HEADER_VALUE: Kind = Kind::OneOf(&[STRING, Kind::Object(&HEADER_FILE)]);
const HEADER_VALUES: Kind = Kind::OneOf(&[
    STRING,
    Kind::Object(&HEADER_FILE),
    Kind::List(&HEADER_VALUE),
]);
pub(crate) static HEADER_FILE: Object = object(&[required(
    "file",
    STRING,
    "Node path of a root-only file holding the header's value, read at apply time; the value is redacted in every output.",
)]);

pub(crate) static AUTH: Object = Object {
    fields: &[
        field(
            "provider",
            STRING,
            "A credential provider (in `credentialProviders`, or `credentialPlugin.name`) whose credentials the kubelet offers to this mirror.",
        ),
        field(
            "basicFrom",
            Kind::Object(&BASIC),
            "Basic auth from root-only files, read at apply time.",
        ),
        field(
            "bearerFrom",
            Kind::Object(&BEARER),
            "A bearer token from a root-only file, read at apply time.",
        ),
    ],
    exactly_one: true,
    extensions: false,
};

pub(crate) static BASIC: Object = object(&[
    required(
        "usernameFile",
        STRING,
        "Node path of the file holding the username.",
    ),
    required(
        "passwordFile",
        STRING,
        "Node path of the file holding the password.",
    ),
]);

pub(crate) static BEARER: Object = object(&[required(
    "tokenFile",
    STRING,
    "Node path of the file holding the token.",
)]);

pub(crate) static PROVIDER: Object = object(&[
    required(
        "name",
        STRING,
        "The provider's binary name in `paths.credentialProviderBinDir`.",
    ),
    required(
        "matchImages",
        STRINGS,
        "Image patterns the kubelet runs the provider for (host, optional port and path; `*.` globs in the host), matched against the image's own name.",
    ),
    required(
        "defaultCacheDuration",
        Kind::Duration,
        "How long the kubelet caches the provider's answer when it names none, a Go duration like \"12h\".",
    ),
    field(
        "apiVersion",
        Kind::Str {
            pattern: None,
            values: PROVIDER_API_VERSIONS,
            any_case: false,
        },
        "The exec-plugin API the provider speaks; default credentialprovider.kubelet.k8s.io/v1 (kubelet 1.26+).",
    ),
    field(
        "args",
        STRINGS,
        "Arguments the kubelet passes to the provider.",
    ),
    field(
        "env",
        Kind::Map {
            key: "a mapping of variable name to value",
            value: &STRING,
        },
        "Environment variables the kubelet sets for the provider.",
    ),
    field(
        "tokenAttributes",
        Kind::Object(&TOKEN_ATTRIBUTES),
        "Hand the pod's service-account token to the provider (kubelet 1.33 with the feature gate, 1.34+).",
    ),
]);

pub(crate) static TOKEN_ATTRIBUTES: Object = object(&[
    field(
        "serviceAccountTokenAudience",
        STRING,
        "The audience of the service-account token the kubelet requests.",
    ),
    field(
        "requireServiceAccount",
        Kind::Bool,
        "Run the provider only for pods with a service account.",
    ),
    field(
        "requiredServiceAccountAnnotationKeys",
        STRINGS,
        "Service-account annotations the kubelet must find and passes to the provider.",
    ),
    field(
        "optionalServiceAccountAnnotationKeys",
        STRINGS,
        "Service-account annotations the kubelet passes to the provider when present.",
    ),
    field(
        "cacheType",
        Kind::Str {
            pattern: None,
            values: CACHE_TYPES,
            any_case: false,
        },
        "How the kubelet keys its cache of the provider's answers; required on kubelet 1.34+, unknown to 1.33.",
    ),
]);

pub(crate) static CONTAINERD: Object = object(&[
    defaulted(
        "manageConfig",
        Kind::Bool,
        Default::Bool(false),
        "Set `config_path` (to `paths.certsDir`) in containerd's config.toml, changing nothing else in the file.",
    ),
    defaulted(
        "configFile",
        NODE_PATH,
        Default::Str("/etc/containerd/config.toml"),
        "Node path of containerd's config.toml.",
    ),
]);

pub(crate) static PLUGIN: Object = object(&[
    defaulted(
        "name",
        STRING,
        Default::Str("mirrorctl-credentials"),
        "Provider name: the executable mirrorctl writes into the kubelet's bin dir.",
    ),
    required(
        "audience",
        STRING,
        "The service-account token audience the kubelet requests for the plugin.",
    ),
    defaulted(
        "binary",
        NODE_PATH,
        Default::Str("/usr/local/bin/mirrorctl"),
        "Where mirrorctl lives on the node.",
    ),
    defaulted(
        "mappingFile",
        NODE_PATH,
        Default::Str("/var/lib/mirrorctl/credential-plugin.json"),
        "The plugin's mapping (0600): which credential files each grant names, never their contents.",
    ),
    defaulted(
        "cacheDuration",
        Kind::Duration,
        Default::Str("5m"),
        "How long the kubelet may cache an answer (kubelet 1.34+, per service account), a Go duration.",
    ),
    field(
        "requiredAnnotationKeys",
        STRINGS,
        "Service-account annotations the kubelet must find and pass to the plugin.",
    ),
    required(
        "grants",
        Kind::List(&Kind::Object(&GRANT)),
        "Who gets which credentials; the first grant that applies for a registry pattern answers. No grant, no credentials.",
    ),
]);

pub(crate) static GRANT: Object = object(&[
    required(
        "registry",
        STRING,
        "The registry pattern the grant's credentials are for, as in `matchImages`.",
    ),
    required("namespace", STRING, "The pod's namespace."),
    field(
        "serviceAccount",
        STRING,
        "The pod's service account; any when absent.",
    ),
    field(
        "annotations",
        Kind::Map {
            key: "a mapping of annotation key to value",
            value: &STRING,
        },
        "Service-account annotations the grant requires, key to value.",
    ),
    required(
        "usernameFile",
        STRING,
        "Root-only file holding the username, read by the plugin on every request.",
    ),
    required(
        "passwordFile",
        STRING,
        "Root-only file holding the password, read by the plugin on every request.",
    ),
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_are_the_ones_the_program_knows() {
        let capabilities: Vec<&str> = crate::effective::Capability::ALL
            .into_iter()
            .map(|c| c.name())
            .collect();
        assert_eq!(capabilities, CAPABILITIES);
        let apis: Vec<&str> = crate::gates::PROVIDER_API_VERSIONS
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(apis, PROVIDER_API_VERSIONS);
        let gates: Vec<&str> = crate::gates::KubeletFeatureGate::ALL
            .into_iter()
            .map(|g| g.name())
            .collect();
        assert_eq!(FEATURE_GATES_OBJECT.names(), gates);
    }

    /// Every field, at every depth, says what it is for.
    #[test]
    fn every_field_has_a_description() {
        fn objects(kind: &Kind, out: &mut Vec<&'static Object>) {
            match kind {
                Kind::Object(o) => {
                    out.push(o);
                    for f in o.fields {
                        objects(&f.kind, out);
                    }
                }
                Kind::List(k) | Kind::Map { value: k, .. } => objects(k, out),
                Kind::OneOf(forms) => forms.iter().for_each(|k| objects(k, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        objects(&Kind::Object(&ROOT), &mut all);
        assert!(all.len() > 15, "{} objects", all.len());
        for object in all {
            for field in object.fields {
                assert!(
                    field.description.len() > 10 && field.description.ends_with('.'),
                    "{}: {:?}",
                    field.name,
                    field.description
                );
            }
        }
    }

    #[test]
    fn defaults_are_the_models() {
        use crate::inventory::model::{ContainerdSettings, Modes, Paths, Target};
        let string =
            |object: &Object, name: &str| match object.field(name).and_then(|f| f.default.as_ref())
            {
                Some(Default::Str(s)) => s.to_string(),
                other => panic!("{name}: {other:?}"),
            };
        let paths = Paths::default();
        assert_eq!(string(&PATHS, "certsDir"), paths.certs_dir.to_string());
        assert_eq!(
            string(&PATHS, "credentialProviderConfig"),
            paths.credential_provider_config
        );
        assert_eq!(
            string(&PATHS, "credentialProviderBinDir"),
            paths.credential_provider_bin_dir.to_string()
        );
        assert_eq!(string(&PATHS, "stateDir"), paths.state_dir.to_string());
        let modes = Modes::default();
        assert_eq!(
            string(&MODES, "hostsToml"),
            format!("{:04o}", modes.hosts_toml)
        );
        assert_eq!(
            string(&MODES, "credentialProviderConfig"),
            format!("{:04o}", modes.credential_provider_config)
        );
        let target = Target::default();
        let version = |v: crate::version::Version| format!("{}.{}", v.major, v.minor);
        assert_eq!(string(&TARGET, "containerd"), version(target.containerd));
        assert_eq!(string(&TARGET, "kubelet"), version(target.kubelet));
        assert_eq!(
            string(&CONTAINERD, "configFile"),
            ContainerdSettings::default().config_file.to_string()
        );
        let mirror_default: Vec<&str> = crate::effective::Capability::MIRROR_DEFAULT
            .into_iter()
            .map(|c| c.name())
            .collect();
        match MIRROR
            .field("capabilities")
            .and_then(|f| f.default.as_ref())
        {
            Some(Default::Strs(s)) => assert_eq!(*s, mirror_default.as_slice()),
            other => panic!("capabilities: {other:?}"),
        }
    }
}
