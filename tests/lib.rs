//! The one integration-test binary: fixtures in, snapshots out, and the real binary called the
//! way Ansible, Puppet and people call it.

mod cli;
mod e2e;
mod integrations;
mod invalid;
mod render;
mod safety;
mod support;
