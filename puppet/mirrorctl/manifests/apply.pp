# @summary Writes containerd's hosts.toml files and the kubelet's CredentialProviderConfig with mirrorctl.
#
# Runs `mirrorctl apply --output json` through an `exec` that is skipped when `mirrorctl check`
# reports nothing to change, so Puppet reports a change only when mirrorctl writes a file.
#
# Restarts follow what the apply really wrote, also when it failed part-way: the apply exec
# reads the `restart` list of mirrorctl's JSON report (the restarts the files written in THIS
# run need, even when the run then failed) and leaves one marker file per service named there
# that has a restart configured. For each such service a "restart hint" exec, declared after
# the apply, consumes its marker and refreshes a `refreshonly` exec running the given command
# and/or the given resources. The hint has no relationship to the apply on purpose: a resource
# that depends on a failed one is skipped, and a failed apply may have written the kubelet's
# file; Puppet evaluates unrelated resources in the order they are declared, so the hint still
# comes after the apply. A marker left by an interrupted Puppet run is consumed by the next one.
#
# `puppet apply --detailed-exitcodes` exits 2 when mirrorctl wrote files, 0 when nothing changed,
# 4 when the apply failed or `mirrorctl lint` refused new `content` (nothing else changed), and 6
# when it failed and something else changed in the same run (a failed apply that wrote the
# kubelet's file, then restarted the kubelet). With `--noop` Puppet itself exits 0 whatever would
# change; only the preview of new `content` (see that parameter) makes events. A CI drift check
# calls `mirrorctl check` (exit 2 = would change).
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
#   (its directory must exist or be managed elsewhere); otherwise the file is left alone. The new
#   text replaces the file only once `mirrorctl lint` accepts it (`validate_cmd`): a broken
#   inventory never replaces a good one, and the apply, which depends on the file, is skipped.
#   In a `--noop` run the new text is staged as `ROOT/var/lib/mirrorctl/puppet-noop-TITLE.yaml`
#   (the one file a noop run writes; `noop => false`) so that the run shows what the NEW
#   inventory would do: the apply's `unless` checks the staged text, and a preview exec
#   (`noop => false`, read-only) logs `mirrorctl diff` of it when something would change, or
#   mirrorctl's error. These two are real events of a noop run: `--noop --detailed-exitcodes`
#   exits 2 when the staged text changed or the preview ran, 0 when the same text was previewed
#   before and would change nothing, 4 or 6 when the preview failed.
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
  # Beside mirrorctl's default state directory under the root, outside what containerd and the
  # kubelet read.
  $markers = $root ? {
    '/'     => '/var/lib/mirrorctl',
    default => "${regsubst($root, '/+\z', '')}/var/lib/mirrorctl",
  }
  $services = ['containerd', 'kubelet'].filter |$service| {
    $restart_commands[$service] =~ NotUndef or $restart_notify[$service] =~ NotUndef
  }

  # A noop run (`puppet apply --noop`, `puppet agent --noop`: the agent's `clientnoop` fact)
  # previews the NEW content, which the inventory file does not receive in such a run.
  $preview = $content =~ NotUndef and $facts['clientnoop'] == true
  $staged = "${markers}/puppet-noop-${regsubst($title, '[^A-Za-z0-9._-]', '_', 'G')}.yaml"
  $checked = $preview ? {
    true    => ['-i', $staged, '--root', $root],
    default => $target,
  }

  if $content =~ NotUndef {
    file { $inventory:
      ensure       => file,
      content      => $content,
      mode         => '0644',
      validate_cmd => "${shellquote($binary)} lint %",
      before       => Exec[$apply],
    }
  }

  if $preview {
    exec { "${apply}: noop staging directory":
      command => ['mkdir', '-p', $markers],
      creates => $markers,
      path    => ['/usr/bin', '/bin'],
      noop    => false,
    }
    -> file { $staged:
      ensure    => file,
      content   => $content,
      mode      => '0644',
      backup    => false,
      show_diff => false,
      noop      => false,
    }
    -> Exec[$apply]
    -> exec { "${apply}: noop preview":
      command   => [$binary, 'diff'] + $checked,
      unless    => [[$binary, 'check'] + $checked],
      returns   => [0, 2],
      path      => ['/usr/bin', '/bin'],
      logoutput => true,
      noop      => false,
    }
  }

  # mirrorctl exits 0 when nothing changed, 2 when it wrote files, 1 on an error; `check` exits
  # 0 only when nothing would change, so an error runs the apply, which fails with the message.
  # The script logs what was written, leaves a marker per hinted service the report's top-level
  # "restart" list names ($5…), and exits with mirrorctl's status.
  $apply_script = join([
      'report=$("$1" apply -i "$2" --root "$3" --output json)',
      'status=$?',
      'compact=$(printf "%s" "$report" | tr -d " \t\r\n")',
      'printf "%s\n" "$compact" | sed -n "s/.*\"written\":\[\([^]][^]]*\)\].*/mirrorctl wrote: \1/p" | tr -d "\""',
      'markers=$4',
      'shift 4',
      'for service in "$@"; do',
      '  if printf "%s" "$compact" | grep -q "\"restart\":\[[^]]*\"$service\""; then',
      '    mkdir -p "$markers" && : >"$markers/puppet-restart-$service" || status=1',
      '  fi',
      'done',
      'exit $status',
  ], "\n")

  exec { $apply:
    command   => ['sh', '-c', $apply_script, 'mirrorctl-apply', $binary, $inventory, $root, $markers]
      + $services,
    unless    => [[$binary, 'check'] + $checked],
    returns   => [0, 2],
    path      => ['/usr/bin', '/bin'],
    logoutput => true,
  }

  $services.each |$service| {
    $command = $restart_commands[$service]
    $listeners = $restart_notify[$service]
    $marker = "${markers}/puppet-restart-${service}"
    $hint = "${apply}: ${service} restart hint"
    exec { $hint:
      command   => ['sh', '-c', 'echo "mirrorctl asks for a $1 restart"; rm -f "$2"', 'mirrorctl-restart-hint',
      $service, $marker],
      onlyif    => [['test', '-e', $marker]],
      path      => ['/usr/bin', '/bin'],
      logoutput => true,
    }
    if $content =~ NotUndef {
      File[$inventory] -> Exec[$hint]
    }
    if $command =~ NotUndef {
      exec { "${apply}: restart ${service}":
        command     => $command,
        refreshonly => true,
        subscribe   => Exec[$hint],
      }
    }
    if $listeners =~ NotUndef {
      Exec[$hint] ~> $listeners
    }
  }
}
