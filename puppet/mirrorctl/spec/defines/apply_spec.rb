# frozen_string_literal: true

require 'spec_helper'

describe 'mirrorctl::apply' do
  let(:title) { 'node' }
  let(:apply) { 'mirrorctl::apply node' }
  let(:target) { ['-i', '/etc/mirrorctl/inventory.yaml', '--root', '/'] }

  context 'with defaults' do
    it { is_expected.to compile.with_all_deps }

    it 'runs apply unless check reports nothing to change' do
      is_expected.to contain_exec(apply).with(
        command: ['/usr/local/bin/mirrorctl', 'apply'] + target,
        unless: [['/usr/local/bin/mirrorctl', 'check'] + target],
        returns: [0, 2],
      )
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
        root: '/build/rootfs',
        binary: '/opt/mirrorctl/bin/mirrorctl',
      }
    end

    it { is_expected.to compile.with_all_deps }

    it 'writes the inventory before applying it' do
      is_expected.to contain_file('/srv/inventory.yaml')
        .with(ensure: 'file', content: "version: 1\n", mode: '0644')
        .that_comes_before("Exec[#{apply}]")
    end

    it 'passes the inventory and the root to both commands' do
      argv = ['-i', '/srv/inventory.yaml', '--root', '/build/rootfs']
      is_expected.to contain_exec(apply).with(
        command: ['/opt/mirrorctl/bin/mirrorctl', 'apply'] + argv,
        unless: [['/opt/mirrorctl/bin/mirrorctl', 'check'] + argv],
      )
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

    it 'reads the hint from check --output json before the apply, after the inventory is written' do
      is_expected.to contain_exec(hint)
        .that_comes_before("Exec[#{apply}]")
        .that_requires('File[/etc/mirrorctl/inventory.yaml]')
      onlyif = catalogue.resource('Exec', hint)[:onlyif]
      expect(onlyif.length).to eq(1)
      expect(onlyif[0][0, 2]).to eq(['sh', '-c'])
      expect(onlyif[0][2]).to include('check -i "$2" --root "$3" --output json')
      expect(onlyif[0][3..]).to eq(['mirrorctl-restart-hint', '/usr/local/bin/mirrorctl',
                                    '/etc/mirrorctl/inventory.yaml', '/', 'kubelet'])
    end

    it 'restarts only on a refresh from the hint, after the apply' do
      is_expected.to contain_exec(restart)
        .with(command: ['/usr/bin/systemctl', 'restart', 'kubelet'], refreshonly: true)
        .that_subscribes_to("Exec[#{hint}]")
        .that_requires("Exec[#{apply}]")
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

    %w[containerd kubelet].each do |service|
      it "refreshes #{service} from its hint, after the apply" do
        is_expected.to contain_exec("#{apply}: #{service} restart hint")
          .that_notifies("Service[#{service}]")
        is_expected.to contain_service(service).that_requires("Exec[#{apply}]")
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
