# Registry mirrors on a Kubernetes node: install the inventory, apply it, and restart the
# kubelet only when mirrorctl says the credential-provider config changed.
#
#   puppet apply --modulepath puppet puppet/mirrorctl/examples/node.pp
file { '/etc/mirrorctl':
  ensure => directory,
  mode   => '0755',
}

mirrorctl::apply { 'node':
  inventory        => '/etc/mirrorctl/inventory.yaml',
  content          => @(INVENTORY),
    version: 1
    registries:
      docker.io:
        mirrors: [{url: "https://mirror.example:5000"}]
    credentialProviders:
      - name: corp
        matchImages: [docker.io]
        defaultCacheDuration: 12h
    | INVENTORY
  restart_commands => {
    'containerd' => ['/usr/bin/systemctl', 'restart', 'containerd'],
    'kubelet'    => ['/usr/bin/systemctl', 'restart', 'kubelet'],
  },
  require          => File['/etc/mirrorctl'],
}
