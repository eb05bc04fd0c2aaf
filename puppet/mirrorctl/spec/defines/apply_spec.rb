# frozen_string_literal: true

require 'spec_helper'

describe 'mirrorctl::apply' do
  let(:title) { 'node' }
  let(:apply) { 'mirrorctl::apply node' }
  let(:target) { ['-i', '/etc/mirrorctl/inventory.yaml', '--root', '/'] }

  # The apply exec's argv: sh -c SCRIPT NAME binary inventory root markers services...
  def apply_argv
    catalogue.resource('Exec', apply)[:command]
  end

  context 'with defaults' do
    it { is_expected.to compile.with_all_deps }

    it 'runs apply --output json unless check reports nothing to change' do
      is_expected.to contain_exec(apply).with(
        unless: [['/usr/local/bin/mirrorctl', 'check'] + target],
        returns: [0, 2],
      )
      expect(apply_argv[0, 2]).to eq(['sh', '-c'])
      expect(apply_argv[2]).to include('"$1" apply -i "$2" --root "$3" --output json')
      expect(apply_argv[3..]).to eq(['mirrorctl-apply', '/usr/local/bin/mirrorctl',
                                     '/etc/mirrorctl/inventory.yaml', '/', '/var/lib/mirrorctl'])
    end

    it 'leaves the inventory file alone' do
      is_expected.not_to contain_file('/etc/mirrorctl/inventory.yaml')
    end

    it 'asks for no restart' do
      is_expected.to have_exec_resource_count(1)
    end
  end

  context 'with content, root and binary' do
    let(:params) do
      {
        inventory: '/srv/inventory.yaml',
        content: "version: 1\n",
        root: '/build/rootfs/',
        binary: '/opt/mirrorctl/bin/mirrorctl',
      }
    end

    it { is_expected.to compile.with_all_deps }

    it 'writes the inventory, once mirrorctl lint accepts it, before applying it' do
      is_expected.to contain_file('/srv/inventory.yaml')
        .with(ensure: 'file', content: "version: 1\n", mode: '0644',
              validate_cmd: '/opt/mirrorctl/bin/mirrorctl lint %')
        .that_comes_before("Exec[#{apply}]")
    end

    it 'stages and previews nothing outside a noop run' do
      is_expected.not_to contain_file('/build/rootfs/var/lib/mirrorctl/puppet-noop-node.yaml')
      is_expected.not_to contain_exec("#{apply}: noop preview")
    end

    it 'passes the inventory and the root to both commands, markers under the root' do
      argv = ['-i', '/srv/inventory.yaml', '--root', '/build/rootfs/']
      is_expected.to contain_exec(apply).with(unless: [['/opt/mirrorctl/bin/mirrorctl', 'check'] + argv])
      expect(apply_argv[4..]).to eq(['/opt/mirrorctl/bin/mirrorctl', '/srv/inventory.yaml',
                                     '/build/rootfs/', '/build/rootfs/var/lib/mirrorctl'])
    end
  end

  context 'with content in a noop run' do
    let(:facts) { { clientnoop: true } }
    let(:params) { { content: "version: 1\n", binary: '/opt/mirror ctl/mirrorctl' } }
    let(:staged) { '/var/lib/mirrorctl/puppet-noop-node.yaml' }
    let(:checked) { ['-i', staged, '--root', '/'] }

    it { is_expected.to compile.with_all_deps }

    it 'quotes the binary in the validation command' do
      is_expected.to contain_file('/etc/mirrorctl/inventory.yaml')
        .with(validate_cmd: '"/opt/mirror ctl/mirrorctl" lint %')
    end

    it 'stages the new content for real and checks the apply against it' do
      is_expected.to contain_file(staged)
        .with(content: "version: 1\n", noop: false)
        .that_comes_before("Exec[#{apply}]")
      is_expected.to contain_exec(apply).with(unless: [['/opt/mirror ctl/mirrorctl', 'check'] + checked])
    end

    it 'previews the diff of the new content, read-only, after the apply' do
      is_expected.to contain_exec("#{apply}: noop preview")
        .with(command: ['/opt/mirror ctl/mirrorctl', 'diff'] + checked,
              unless: [['/opt/mirror ctl/mirrorctl', 'check'] + checked],
              returns: [0, 2], noop: false, logoutput: true)
        .that_requires("Exec[#{apply}]")
    end
  end

  context 'with a kubelet restart command' do
    let(:params) do
      {
        content: "version: 1\n",
        restart_commands: { 'kubelet' => ['/usr/bin/systemctl', 'restart', 'kubelet'] },
      }
    end
    let(:hint) { "#{apply}: kubelet restart hint" }
    let(:restart) { "#{apply}: restart kubelet" }

    it { is_expected.to compile.with_all_deps }

    it 'has the apply leave a marker for kubelet only' do
      expect(apply_argv.last(2)).to eq(['/var/lib/mirrorctl', 'kubelet'])
    end

    it 'consumes the marker after the inventory is written, without depending on the apply' do
      is_expected.to contain_exec(hint)
        .with(onlyif: [['test', '-e', '/var/lib/mirrorctl/puppet-restart-kubelet']])
        .that_requires('File[/etc/mirrorctl/inventory.yaml]')
      # A failed apply may have written the kubelet's file: a dependency would skip the hint.
      is_expected.not_to contain_exec(hint).that_requires("Exec[#{apply}]")
      is_expected.not_to contain_exec(hint).that_comes_before("Exec[#{apply}]")
    end

    it 'restarts only on a refresh from the hint' do
      is_expected.to contain_exec(restart)
        .with(command: ['/usr/bin/systemctl', 'restart', 'kubelet'], refreshonly: true)
        .that_subscribes_to("Exec[#{hint}]")
      is_expected.not_to contain_exec(restart).that_requires("Exec[#{apply}]")
    end

    it 'has nothing for containerd' do
      is_expected.not_to contain_exec("#{apply}: containerd restart hint")
      is_expected.not_to contain_exec("#{apply}: restart containerd")
    end
  end

  context 'with services to notify' do
    let(:pre_condition) { "service { ['containerd', 'kubelet']: }" }
    let(:params) do
      { restart_notify: { 'containerd' => ref('Service', 'containerd'), 'kubelet' => [ref('Service', 'kubelet')] } }
    end

    it { is_expected.to compile.with_all_deps }

    it 'has the apply leave markers for both' do
      expect(apply_argv.last(2)).to eq(%w[containerd kubelet])
    end

    %w[containerd kubelet].each do |service|
      it "refreshes #{service} from its hint" do
        is_expected.to contain_exec("#{apply}: #{service} restart hint")
          .that_notifies("Service[#{service}]")
        is_expected.not_to contain_exec("#{apply}: restart #{service}")
      end
    end
  end

  context 'with a relative inventory path' do
    let(:params) { { inventory: 'inventory.yaml' } }

    it { is_expected.to compile.and_raise_error(%r{inventory}) }
  end

  context 'with a restart for an unknown service' do
    let(:params) { { restart_commands: { 'docker' => ['/bin/true'] } } }

    it { is_expected.to compile.and_raise_error(%r{restart_commands}) }
  end
end
