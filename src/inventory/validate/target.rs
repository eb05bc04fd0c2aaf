//! Rules on `target`: supported versions, and feature gates the target kubelet knows.

use super::Checker;
use crate::code::Code;
use crate::gates;
use crate::gates::KubeletFeatureGate;
use crate::inventory::path::key;

impl Checker<'_> {
    pub(super) fn target(&mut self) {
        let target = self.inventory.target;
        if target.containerd < gates::OLDEST_CONTAINERD {
            self.problem(
                Code::T001,
                "target.containerd",
                None,
                format!(
                    "containerd {} is not supported: hosts.toml needs 1.6 or later",
                    target.containerd
                ),
            );
        }
        if target.kubelet < gates::OLDEST_KUBELET {
            self.problem(
                Code::T002,
                "target.kubelet",
                None,
                format!(
                    "kubelet {} is not supported: credential providers need 1.20 or later",
                    target.kubelet
                ),
            );
        }
        for gate in KubeletFeatureGate::ALL {
            if let Some(declared) = target.kubelet_feature_gates.declared(gate)
                && target.kubelet < gate.since()
            {
                let since = gate.since();
                self.problem(
                    Code::T003,
                    &key("target.kubeletFeatureGates", gate.name()),
                    Some(declared.mark),
                    format!(
                        "kubelet {} does not know the feature gate {} (it exists from {}.{}); a kubelet started with an unknown gate refuses to start",
                        target.kubelet,
                        gate.name(),
                        since.major,
                        since.minor
                    ),
                );
            }
        }
    }
}
