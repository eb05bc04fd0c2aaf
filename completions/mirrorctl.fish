# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mirrorctl_global_optspecs
    string join \n h/help V/version
end

function __fish_mirrorctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mirrorctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mirrorctl_using_subcommand
    set -l cmd (__fish_mirrorctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "apply" -d 'Write every file the inventory implies; exit 2 when something changed'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "check" -d 'Read-only: report what apply would change (= apply --check); exit 2 when something would'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "diff" -d 'Read-only: unified diff of what apply would change (= apply --check --diff)'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "render" -d 'Print (or write under --out) the desired files only, without comparing with the node'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "lint" -d 'Check an inventory offline (and, with --root, the node\'s CA files and provider binaries)'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "resolve" -d 'Show where a pull of IMAGE will go: directory, endpoints in order, TLS, credentials'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "import" -d 'Convert the mirrors a node already has (k3s, Talos, Kubespray, legacy config.toml, certs.d) into an inventory; warnings on stderr for what cannot be expressed'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "schema" -d 'Print the JSON Schema (draft 2020-12) of the inventory, for editors and CI validators'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "credential-provider" -d 'Run as the kubelet\'s credential provider (exec plugin protocol v1, request on stdin)'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "probe" -d 'Contact the endpoints as containerd would, from this node, now: each step timed, and for each IMAGE the endpoint containerd would get it from; exit 1 unless every image comes through a mirror (without IMAGE: unless every mirror answers)'
complete -c mirrorctl -n "__fish_mirrorctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -s i -l inventory -d 'Inventory file; `-` reads standard input' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -l root -d 'Prefix every node path with DIR (image builds, tests, dry runs as non-root)' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -l output -d 'Report format on stdout' -r -f -a "text\t''
json\t''"
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -l lock-timeout -d 'Seconds to wait for another run\'s lock before failing' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -l adopt -d 'Take over files at desired paths that mirrorctl did not write'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -l diff -d 'Show a unified diff of every change (with --output json: `before`/`after` per file)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -l check -d 'Change nothing; report what would change (exit 2 when something would)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand apply" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -s i -l inventory -d 'Inventory file; `-` reads standard input' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -l root -d 'Prefix every node path with DIR (image builds, tests, dry runs as non-root)' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -l output -d 'Report format on stdout' -r -f -a "text\t''
json\t''"
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -l lock-timeout -d 'Seconds to wait for another run\'s lock before failing' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -l adopt -d 'Take over files at desired paths that mirrorctl did not write'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -l diff -d 'Show a unified diff of every change (with --output json: `before`/`after` per file)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -s i -l inventory -d 'Inventory file; `-` reads standard input' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -l root -d 'Prefix every node path with DIR (image builds, tests, dry runs as non-root)' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -l output -d 'Report format on stdout' -r -f -a "text\t''
json\t''"
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -l lock-timeout -d 'Seconds to wait for another run\'s lock before failing' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -l adopt -d 'Take over files at desired paths that mirrorctl did not write'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand diff" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand render" -s i -l inventory -d 'Inventory file; `-` reads standard input' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand render" -l out -d 'Write the files under DIR as if it were the node\'s root (secrets included, 0600); `-` (the default) prints them with secrets redacted' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand render" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand render" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand lint" -s i -l inventory -d 'Inventory file to lint (repeatable; `-` reads standard input). With neither -i nor FILE: $MIRRORCTL_INVENTORY, else /etc/mirrorctl/inventory.yaml' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand lint" -l format -d 'Report format: human text, JSON, or GitHub workflow annotations' -r -f -a "text\t''
json\t''
github\t''"
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand lint" -l root -d 'Also check the node under DIR: CA and client files, provider binaries, stray directories' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand lint" -l strict -d 'Fail (exit 1) on warnings too'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand lint" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand lint" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -s i -l inventory -d 'Inventory file; `-` reads standard input' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -l output -d 'Report format on stdout' -r -f -a "text\t''
json\t''"
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -l namespace -d 'Show the credentials `credentialPlugin` grants to a pod of this namespace' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -l service-account -d 'With --namespace: the pod\'s service account (default: `default`)' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -l annotation -d 'With --namespace: an annotation of the service account, as the kubelet sends it to the plugin (repeatable); with any, resolve says which grant the plugin answers with' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand resolve" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand import" -s o -l output -d 'Write the inventory to FILE (atomically) instead of standard output' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand import" -l secrets-dir -d 'Write the source\'s inline credentials into DIR as root-only files (0600) and reference them there; without it the inventory references /etc/mirrorctl/secrets/ and stderr says which secret belongs in which file' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand import" -l target-containerd -d '`target.containerd` of the inventory' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand import" -l disable-default-registry-endpoint -d 'k3s/RKE2 only: the node runs with `--disable-default-registry-endpoint`, so registries of the file do not fall back to their own endpoint after the mirrors'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand import" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand schema" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand schema" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand credential-provider" -l mapping -d 'The plugin\'s mapping file, written by `apply` from `credentialPlugin`' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand credential-provider" -s h -l help -d 'Print help'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand credential-provider" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -s i -l inventory -d 'Inventory file; `-` reads standard input' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l root -d 'Read the CA, client certificate and secret files under DIR (their node paths prefixed)' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l namespace -d 'Send the credentials `credentialPlugin` grants to a pod of this namespace, as the kubelet would, to every endpoint that challenges' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l service-account -d 'With --namespace: the pod\'s service account (default: `default`)' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l annotation -d 'With --namespace: an annotation of the service account, as the kubelet sends it to the plugin (repeatable); without any, grants that depend on annotations are not used' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l timeout -d 'Seconds each step may take: name resolution, connect (unless the mirror\'s `dialTimeout` says otherwise), TLS handshake, each request' -r
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l output -d 'Report format on stdout (or in --textfile)' -r -f -a "text\t''
json\t''
prometheus\t'The node-exporter textfile format (metrics `mirrorctl_probe_*`)'"
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -l textfile -d 'With --output prometheus: write the metrics to PATH atomically (node-exporter\'s textfile collector never reads half a file) instead of standard output' -r -F
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand probe" -s V -l version -d 'Print version'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "apply" -d 'Write every file the inventory implies; exit 2 when something changed'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "check" -d 'Read-only: report what apply would change (= apply --check); exit 2 when something would'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "diff" -d 'Read-only: unified diff of what apply would change (= apply --check --diff)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "render" -d 'Print (or write under --out) the desired files only, without comparing with the node'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "lint" -d 'Check an inventory offline (and, with --root, the node\'s CA files and provider binaries)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "resolve" -d 'Show where a pull of IMAGE will go: directory, endpoints in order, TLS, credentials'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "import" -d 'Convert the mirrors a node already has (k3s, Talos, Kubespray, legacy config.toml, certs.d) into an inventory; warnings on stderr for what cannot be expressed'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "schema" -d 'Print the JSON Schema (draft 2020-12) of the inventory, for editors and CI validators'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "credential-provider" -d 'Run as the kubelet\'s credential provider (exec plugin protocol v1, request on stdin)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "probe" -d 'Contact the endpoints as containerd would, from this node, now: each step timed, and for each IMAGE the endpoint containerd would get it from; exit 1 unless every image comes through a mirror (without IMAGE: unless every mirror answers)'
complete -c mirrorctl -n "__fish_mirrorctl_using_subcommand help; and not __fish_seen_subcommand_from apply check diff render lint resolve import schema credential-provider probe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
