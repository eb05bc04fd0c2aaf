//! The one integration-test binary: fixtures in, snapshots out, and the real binary called the
//! way Ansible, Puppet and people call it.

mod adversarial;
mod ca_pem;
mod certificates;
mod cli;
mod cli_details;
mod containerd_config;
mod crash;
mod credential_plugin;
mod docs;
mod exactness;
mod fuzz;
mod fuzz_replay;
mod import;
mod invalid;
mod lint;
mod outputs;
mod probe;
mod render;
mod reports;
mod resolve;
mod rotation;
mod safety;
mod schema;
mod support;
