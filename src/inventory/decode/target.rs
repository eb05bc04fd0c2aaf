//! `target`: the containerd and kubelet versions, and the kubelet's declared feature gates.

use super::Decoder;
use crate::gates::{KubeletFeatureGate, KubeletFeatureGates};
use crate::inventory::model::*;
use crate::inventory::path::key;
use crate::inventory::yaml::Node;

impl Decoder {
    pub(super) fn target(&mut self, node: &Node) -> Target {
        let mut target = Target::default();
        if let Some(map) = self.mapping(
            node,
            "target",
            &["containerd", "kubelet", "kubeletFeatureGates"],
        ) {
            if let Some(v) = map
                .get("containerd")
                .and_then(|n| self.version(n, "target.containerd"))
            {
                target.containerd = v;
            }
            if let Some(v) = map
                .get("kubelet")
                .and_then(|n| self.version(n, "target.kubelet"))
            {
                target.kubelet = v;
            }
            if let Some(gates) = map.get("kubeletFeatureGates") {
                target.kubelet_feature_gates = self.kubelet_feature_gates(gates);
            }
        }
        target
    }

    /// `target.kubeletFeatureGates`: gate name → bool, only gates mirrorctl knows.
    fn kubelet_feature_gates(&mut self, node: &Node) -> KubeletFeatureGates {
        let path = "target.kubeletFeatureGates";
        let mut gates = KubeletFeatureGates::default();
        let names = KubeletFeatureGate::ALL.map(KubeletFeatureGate::name);
        let Some(map) = self.mapping(node, path, &names) else {
            return gates;
        };
        for gate in KubeletFeatureGate::ALL {
            if let Some(value) = map.get(gate.name())
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
