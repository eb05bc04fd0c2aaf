//! `target`: the containerd and kubelet versions, and the kubelet's declared feature gates.

use super::Decoder;
use super::fields::{FEATURE_GATES_OBJECT, TARGET};
use crate::gates::{KubeletFeatureGate, KubeletFeatureGates};
use crate::inventory::model::*;
use crate::inventory::path::key;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn target(&mut self, node: &Node) -> Target {
        let mut target = Target::default();
        if let Some(map) = self.object(node, "target", &TARGET) {
            if let Some(v) = self
                .field(&map, "target", "containerd")
                .and_then(|n| self.version(n, "target.containerd"))
            {
                target.containerd = v;
            }
            if let Some(v) = self
                .field(&map, "target", "kubelet")
                .and_then(|n| self.version(n, "target.kubelet"))
            {
                target.kubelet = v;
            }
            if let Some(gates) = self.field(&map, "target", "kubeletFeatureGates") {
                target.kubelet_feature_gates = self.kubelet_feature_gates(gates);
            }
        }
        target
    }

    /// `target.kubeletFeatureGates`: gate name → bool, only gates mirrorctl knows.
    fn kubelet_feature_gates(&mut self, node: &Node) -> KubeletFeatureGates {
        let path = "target.kubeletFeatureGates";
        let mut gates = KubeletFeatureGates::default();
        let Some(map) = self.object(node, path, &FEATURE_GATES_OBJECT) else {
            return gates;
        };
        for gate in KubeletFeatureGate::ALL {
            if let Some(value) = self.field(&map, path, gate.name())
                && let Some(on) = self.bool(value, &key(path, gate.name()))
            {
                gates.declare(
                    gate,
                    Spanned {
                        value: on,
                        mark: value.mark,
                    },
                );
            }
        }
        gates
    }
}
