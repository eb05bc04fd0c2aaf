//! mirrorctl: one inventory in, every node file that image pulls through private mirrors depend
//! on out — containerd's `hosts.toml` files and the kubelet's `CredentialProviderConfig`.
//!
//! The program is one pipeline of values; only [`apply`] writes:
//!
//! ```text
//! inventory ─▶ render (pure) ─▶ DesiredState ─▶ plan (vs disk) ─▶ Plan ─▶ apply / report
//! ```

pub mod apply;
pub mod cli;
pub mod code;
pub(crate) mod credential_plugin;
pub(crate) mod duration;
mod effective;
pub mod error;
pub mod fsx;
pub mod fuzz_targets;
pub(crate) mod gates;
pub(crate) mod grants;
pub(crate) mod image_pattern;
pub(crate) mod import;
pub mod inventory;
pub mod lint;
pub(crate) mod lock;
pub mod plan;
pub(crate) mod probe;
pub mod redact;
pub mod render;
pub(crate) mod report;
pub mod resolve;
pub mod secrets;
pub mod state;
pub mod version;
mod x509;

pub use error::Error;
