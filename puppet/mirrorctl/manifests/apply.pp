# @summary Writes containerd's hosts.toml files and the kubelet's CredentialProviderConfig with mirrorctl.
#
# Runs `mirrorctl apply` through an `exec` that is skipped when `mirrorctl check` reports
# nothing to change, so Puppet reports a change only when mirrorctl writes a file.
#
# Restarts are driven by mirrorctl's restart hints. For each service named in
# `restart_commands` or `restart_notify`, a "restart hint" exec runs BEFORE the apply: its
# `onlyif` asks `mirrorctl check --output json` whether the pending change names that service
# (the hint is gone once the apply has written the files). When it does, the hint exec
# refreshes a `refreshonly` exec running the given command and/or the given resources, which
# are ordered AFTER the apply. A failed apply skips them (failed dependency).
#
# @example Install the inventory and restart the kubelet only when mirrorctl asks for it
#   file { '/etc/mirrorctl':
#     ensure => directory,
#   }
#   mirrorctl::apply { 'node':
#     content          => file('profile/mirrorctl/inventory.yaml'),
#     restart_commands => { 'kubelet' => ['/usr/bin/systemctl', 'restart', 'kubelet'] },
#   }
#
# @example Refresh Puppet-managed services instead
#   mirrorctl::apply { 'node':
#     inventory      => '/etc/mirrorctl/inventory.yaml',
#     restart_notify => { 'containerd' => Service['containerd'], 'kubelet' => Service['kubelet'] },
#   }
#
# @param inventory
#   Absolute path of the inventory on the node, passed to mirrorctl as `-i`.
# @param content
#   The inventory text. When set, this type manages `inventory` as a file with this content
#   (its directory must exist or be managed elsewhere); otherwise the file is left alone.
# @param root
#   Directory that prefixes every node path mirrorctl writes (`--root`).
# @param binary
#   Absolute path of the mirrorctl executable.
# @param restart_commands
#   Per service (`containerd`, `kubelet`), a command (argv) run after the apply when mirrorctl's
#   restart hints name that service.
# @param restart_notify
#   Per service (`containerd`, `kubelet`), resources refreshed after the apply when mirrorctl's
#   restart hints name that service, e.g. `Service['kubelet']`.
define mirrorctl::apply (
  Pattern[/\A\//] $inventory = '/etc/mirrorctl/inventory.yaml',
  Optional[String] $content = undef,
  Pattern[/\A\//] $root = '/',
  Pattern[/\A\//] $binary = '/usr/local/bin/mirrorctl',
  Hash[Enum['containerd', 'kubelet'], Array[String[1], 1]] $restart_commands = {},
  Hash[Enum['containerd', 'kubelet'], Variant[Type[Resource], Array[Type[Resource], 1]]] $restart_notify = {},
) {
  $target = ['-i', $inventory, '--root', $root]
  $apply = "mirrorctl::apply ${title}"

  if $content =~ NotUndef {
    file { $inventory:
      ensure  => file,
      content => $content,
      mode    => '0644',
      before  => Exec[$apply],
    }
  }

  # mirrorctl exits 0 when nothing changed, 2 when it wrote files, 1 on an error; `check` exits
  # 0 only when nothing would change, so an error runs the apply, which fails with the message.
  exec { $apply:
    command   => [$binary, 'apply'] + $target,
    unless    => [[$binary, 'check'] + $target],
    returns   => [0, 2],
    logoutput => true,
  }

  # Exits 0 when the JSON report's top-level "restart" list names the service ($4). When
  # mirrorctl fails it prints no report, grep finds nothing, and no restart is asked for.
  $hint_script = join([
      '"$1" check -i "$2" --root "$3" --output json',
      'tr -d " \t\r\n"',
      'grep -q "\"restart\":\[[^]]*\"$4\""',
  ], ' | ')

  ['containerd', 'kubelet'].each |$service| {
    $command = $restart_commands[$service]
    $listeners = $restart_notify[$service]
    if $command =~ NotUndef or $listeners =~ NotUndef {
      $hint = "${apply}: ${service} restart hint"
      exec { $hint:
        command   => ['echo', "mirrorctl asks for a ${service} restart"],
        onlyif    => [['sh', '-c', $hint_script, 'mirrorctl-restart-hint', $binary, $inventory, $root, $service]],
        path      => ['/usr/bin', '/bin'],
        logoutput => true,
        before    => Exec[$apply],
      }
      if $content =~ NotUndef {
        File[$inventory] -> Exec[$hint]
      }
      if $command =~ NotUndef {
        exec { "${apply}: restart ${service}":
          command     => $command,
          refreshonly => true,
          subscribe   => Exec[$hint],
          require     => Exec[$apply],
        }
      }
      if $listeners =~ NotUndef {
        Exec[$hint] ~> $listeners
        Exec[$apply] -> $listeners
      }
    }
  }
}
