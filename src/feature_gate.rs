//! Kubelet feature gates an inventory can declare (`target.kubeletFeatureGates`): the ones
//! that change what the kubelet accepts in its CredentialProviderConfig, with the versions
//! that know each gate and turn it on by default.

use crate::inventory::model::Spanned;
use crate::version::Version;

/// A kubelet feature gate mirrorctl knows; the inventory names it as the kubelet does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeletFeatureGate {
    /// KEP-4412: `tokenAttributes` (service-account tokens for credential providers).
    ServiceAccountTokenForCredentialProviders,
}

impl KubeletFeatureGate {
    pub const ALL: [KubeletFeatureGate; 1] =
        [KubeletFeatureGate::ServiceAccountTokenForCredentialProviders];

    /// The name in `--feature-gates` and in the inventory.
    pub fn name(self) -> &'static str {
        match self {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => {
                "KubeletServiceAccountTokenForCredentialProviders"
            }
        }
    }

    /// The first kubelet that knows the gate; an older one refuses to start with it set.
    pub fn since(self) -> Version {
        match self {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => Version::new(1, 33, 0),
        }
    }

    /// The first kubelet on which the gate is on unless turned off (alpha, off, on 1.33;
    /// beta, on, from 1.34).
    pub fn on_by_default_since(self) -> Version {
        match self {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => Version::new(1, 34, 0),
        }
    }
}

/// The gates the inventory declares for the node's kubelet, each where it was written.
/// mirrorctl writes no kubelet flags: a declaration says how the node's kubelet is started.
#[derive(Debug, Clone, Copy, Default)]
pub struct KubeletFeatureGates {
    service_account_token_for_credential_providers: Option<Spanned<bool>>,
}

impl KubeletFeatureGates {
    fn slot(&mut self, gate: KubeletFeatureGate) -> &mut Option<Spanned<bool>> {
        match gate {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => {
                &mut self.service_account_token_for_credential_providers
            }
        }
    }

    pub fn declare(&mut self, gate: KubeletFeatureGate, value: Spanned<bool>) {
        *self.slot(gate) = Some(value);
    }

    /// What the inventory declares for `gate`, if anything.
    pub fn declared(&self, gate: KubeletFeatureGate) -> Option<Spanned<bool>> {
        match gate {
            KubeletFeatureGate::ServiceAccountTokenForCredentialProviders => {
                self.service_account_token_for_credential_providers
            }
        }
    }

    /// Whether `gate` is on in `kubelet`: as declared, else the kubelet's default.
    pub fn enabled(&self, gate: KubeletFeatureGate, kubelet: Version) -> bool {
        self.declared(gate)
            .map_or(kubelet >= gate.on_by_default_since(), |d| d.value)
    }
}
