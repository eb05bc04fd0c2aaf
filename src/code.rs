//! Finding codes: one enum, so a typo is a compile error and docs/lint.md is checked against it.

use std::fmt;

macro_rules! codes {
    ($($code:ident),* $(,)?) => {
        /// A stable finding code (docs/lint.md): the letter names the area, the number the rule;
        /// 1xx numbers are warnings and notes of lint.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($code),*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code)),*
                }
            }
        }
    };
}

codes![
    // YAML and schema.
    Y001, Y002, Y004, S001, S002, S003, S004, S005, // Targets, registries and mirrors.
    T001, T002, T003, R001, R003, R004, R005, R101, M001, M002, M003, M004, M005, M006, M007, M008,
    M009, M010, M011, M012, M013, M101, M102, // Kubelet credential providers.
    K001, K002, K003, K004, K005, K006, K007, K008, K009, K010, K011, K012, K013, K014, K102, K103,
    K104, K105, K106, K107, // Between containerd and the kubelet.
    X001, X002, X003, X004, X005, X007, // Node checks.
    N001, N002, N003, N004, N005, N006, N007, N008, N101, N102, // containerd's config.toml.
    C001, C002, C003, C004, C005, C006, // The credential plugin.
    P001, P002, P003, P004, P005, P006,
];

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
