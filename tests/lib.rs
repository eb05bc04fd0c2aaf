//! The one integration-test binary: fixtures in, snapshots out, and the real binary called the
//! way Ansible, Puppet and people call it.

mod cli;
mod containerd_config;
mod docs;
mod e2e;
mod integrations;
mod invalid;
mod lint;
mod render;
mod resolve;
mod safety;
mod support;
