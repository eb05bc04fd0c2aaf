//! Semantic validation: what containerd and the kubelet really accept (see the references),
//! checked for the target versions, with every problem collected at once.
//!
//! This file holds the [`Checker`] and the checks the modules share; the rules live in one
//! module per half (containerd, kubelet), one for the rules that span them and the credential
//! plugin's (cross), and one for `target`.

mod containerd;
mod cross;
mod kubelet;
mod target;

pub use containerd::{check_registry_name, check_url};
pub use cross::provider_mismatches;
pub use kubelet::provider_api_version;

use super::model::*;
use super::node_path::NodePath;
use super::yaml::Mark;
use crate::code::Code;
use crate::error::{Findings, Problem};

struct Checker<'a> {
    inventory: &'a Inventory,
    problems: Findings,
}

pub(super) fn validate(inventory: &Inventory) -> Vec<Problem> {
    let mut checker = Checker {
        inventory,
        problems: Findings::default(),
    };
    checker.target();
    checker.registries();
    checker.providers();
    checker.cross();
    checker.plugin();
    checker.problems.into_vec()
}

impl Checker<'_> {
    fn problem(&mut self, code: Code, path: &str, mark: Option<Mark>, message: impl Into<String>) {
        self.problems.push(Problem::error(
            code,
            path,
            mark.and_then(Mark::pair),
            message,
        ));
    }

    fn file_path(&mut self, path: &str, file: &Spanned<String>) {
        if let Err(why) = NodePath::parse(&file.value) {
            self.problem(Code::M007, path, Some(file.mark), why);
        }
    }
}
