#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, mirrorctl developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This program is free software: you can redistribute it and/or modify it under the terms of
# the GNU General Public License as published by the Free Software Foundation, either version 3
# of the License, or (at your option) any later version.
#
# This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY;
# without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.
# See the GNU General Public License for more details.
#
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: apply
short_description: Write containerd mirror and kubelet credential-provider files with mirrorctl
version_added: "0.1.0"
description:
  - Runs C(mirrorctl apply --output json) on the node, which renders the containerd C(hosts.toml)
    files and the kubelet C(CredentialProviderConfig) from one inventory and writes the ones that
    differ atomically.
  - The module reports which files changed and which services need a restart, so that a play can
    notify the matching handlers only when a restart is really needed.
  - In check mode the module runs C(mirrorctl apply --check), which reads the node and writes
    nothing. In diff mode it adds C(--diff) and returns one before/after entry per changed file;
    mirrorctl has already redacted files that carry secrets.
  - The module never returns a key named C(rc); the exit status of mirrorctl is in RV(exit_code).
author: mirrorctl developers (@mirrorctl)
requirements:
  - The C(mirrorctl) binary on the managed node.
options:
  inventory:
    description:
      - Path of the inventory file on the managed node, passed as C(-i).
      - Mutually exclusive with O(content).
      - When neither O(inventory) nor O(content) is set, mirrorctl uses its own default
        (C(MIRRORCTL_INVENTORY), else C(/etc/mirrorctl/inventory.yaml)).
    type: path
  content:
    description:
      - The inventory itself, as YAML text. It is passed to mirrorctl on standard input
        (C(-i -)), so nothing is written to the node but the rendered files.
      - Use this in check mode when the inventory file is installed by an earlier task of the
        same play, since that task writes nothing in check mode.
      - Mutually exclusive with O(inventory).
    type: str
  root:
    description:
      - Directory that prefixes every node path (C(--root)), for image builds and dry runs.
    type: path
    default: /
  binary:
    description:
      - The mirrorctl executable. A bare name is looked up in E(PATH) on the node; a path is used
        as it is.
    type: str
    default: mirrorctl
  adopt:
    description:
      - Pass C(--adopt) so that mirrorctl takes over existing files it did not create.
      - A mirrorctl that does not know the flag rejects it with exit status 64, and the task
        fails with its message.
    type: bool
    default: false
attributes:
  check_mode:
    description: Runs C(mirrorctl apply --check), which writes nothing and reports what would change.
    support: full
  diff_mode:
    description: Returns one before/after entry per changed file, with secrets redacted by mirrorctl.
    support: full
  platform:
    description: Runs on the managed node, where the files are written.
    support: full
    platforms: posix
notes:
  - Exit status 0 of mirrorctl means nothing changed, 2 means files changed (or would change in
    check mode), 1 is an error and 64 a usage error; the last two fail the task with mirrorctl's
    message.
  - A run that fails after writing some files still returns what it wrote. The failed task is
    then also C(changed), with RV(written), RV(restart) for what was written and the typed
    RV(error), so that a play can restart what the written files need before it stops.
"""

EXAMPLES = r"""
- name: Render the registry mirror files from the installed inventory
  mirrorctl.node.apply:
    inventory: /etc/mirrorctl/inventory.yaml
  register: mirrorctl

- name: Apply an inventory held by the controller, without installing it
  mirrorctl.node.apply:
    content: "{{ lookup('ansible.builtin.file', 'inventory.yaml') }}"
    binary: /usr/local/bin/mirrorctl
  register: mirrorctl

- name: Ask for a kubelet restart only when mirrorctl says so
  ansible.builtin.debug:
    msg: "mirrorctl asks for a restart of: {{ mirrorctl.restart | join(', ') }}"
  when: "'kubelet' in mirrorctl.restart"
  changed_when: true
  notify: Restart kubelet

- name: Render into an image root instead of the running node
  mirrorctl.node.apply:
    inventory: /build/inventory.yaml
    root: /build/rootfs
"""

RETURN = r"""
changed:
  description: Whether mirrorctl changed files (or, in check mode, would change them).
  returned: always
  type: bool
  sample: true
exit_code:
  description:
    - Exit status of mirrorctl. 0 nothing changed, 2 files changed or would change.
    - Named so because a result key C(rc) with value 2 makes Ansible fail the task.
  returned: always
  type: int
  sample: 2
files:
  description: Every file mirrorctl manages, in mirrorctl's order, with what was (or would be) done to it.
  returned: when mirrorctl printed its report, also when it failed after planning
  type: list
  elements: dict
  contains:
    path:
      description: Path on the node, without O(root).
      type: str
      returned: always
      sample: /etc/containerd/certs.d/docker.io/hosts.toml
    action:
      description: One of C(create), C(update), C(chmod), C(delete), C(unchanged).
      type: str
      returned: always
      sample: create
  sample:
    - path: /etc/containerd/certs.d/docker.io/hosts.toml
      action: create
    - path: /etc/kubernetes/credential-providers.yaml
      action: unchanged
restart:
  description:
    - Services that need a restart for the change to take effect, a subset of
      C(containerd) and C(kubelet). Empty when nothing needs one; C(hosts.toml) changes are live.
    - After a failure, the restarts that the files written before it need.
  returned: when mirrorctl printed its report, also on failure
  type: list
  elements: str
  sample: [kubelet]
written:
  description: Node paths this run changed (empty in check mode), also when it then failed.
  returned: when mirrorctl printed its report, also on failure
  type: list
  elements: str
  sample: [/etc/kubernetes/credential-providers.yaml]
not_written:
  description: Node paths with a pending change that this run did not make (each keeps its old content).
  returned: when mirrorctl printed its report, also on failure
  type: list
  elements: str
  sample: []
error:
  description:
    - Why mirrorctl failed, as typed by mirrorctl's JSON report (see its README).
    - C(kind) is stable (C(inventory), C(nodeFile), C(io), C(symlink), C(notAFile),
      C(certificate), C(secret), C(locked), C(foreign), C(other)); C(path), C(message) and,
      for a failure during the writes, C(stage) and C(file) say more.
  returned: failure, when mirrorctl printed its report
  type: dict
  sample:
    kind: io
    path: /etc/kubernetes/.credential-providers.yaml.4711.mirrorctl-tmp
    message: "failed to create the temporary file ..."
    stage: apply
    file: /etc/kubernetes/credential-providers.yaml
cmd:
  description: The command line that was run.
  returned: always
  type: list
  elements: str
  sample: [/usr/local/bin/mirrorctl, apply, -i, /etc/mirrorctl/inventory.yaml, --root, /, --output, json]
stdout:
  description: Standard output of mirrorctl (the JSON report).
  returned: always
  type: str
stderr:
  description: Standard error of mirrorctl.
  returned: always
  type: str
  sample: ""
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


EXIT_UNCHANGED = 0
EXIT_CHANGED = 2
EXIT_ERROR = 1
EXIT_USAGE = 64


def find_binary(module, binary):
    if os.sep in binary:
        if not os.access(binary, os.X_OK):
            module.fail_json(msg="mirrorctl binary %s is not an executable file" % binary)
        return binary
    return module.get_bin_path(binary, required=True)


def build_command(module, binary):
    params = module.params
    cmd = [binary, "apply"]
    if params["content"] is not None:
        cmd += ["-i", "-"]
    elif params["inventory"] is not None:
        cmd += ["-i", params["inventory"]]
    cmd += ["--root", params["root"], "--output", "json"]
    if params["adopt"]:
        cmd.append("--adopt")
    if module.check_mode:
        cmd.append("--check")
    if module._diff:
        cmd.append("--diff")
    return cmd


def header(entry, side):
    """Names one side of a file's diff; a mode-only change shows the modes, as its text is equal."""
    path = entry["path"]
    mode = entry.get("modeBefore") if side == "before" else entry.get("mode")
    if entry.get("action") == "chmod" and mode:
        return "%s (mode %s)" % (path, mode)
    return path


def file_diffs(report):
    diffs = []
    for entry in report.get("files") or []:
        if entry.get("action") == "unchanged":
            continue
        if "before" not in entry and "after" not in entry:
            continue
        diffs.append(
            {
                "before": entry.get("before") or "",
                "after": entry.get("after") or "",
                "before_header": header(entry, "before"),
                "after_header": header(entry, "after"),
            }
        )
    return diffs


def read_report(stdout):
    """mirrorctl's JSON report, or None and why stdout is not one."""
    try:
        report = json.loads(stdout)
    except ValueError as e:
        return None, str(e)
    if not isinstance(report, dict):
        return None, "not a JSON object"
    return report, None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            inventory=dict(type="path"),
            content=dict(type="str"),
            root=dict(type="path", default="/"),
            binary=dict(type="str", default="mirrorctl"),
            adopt=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("inventory", "content")],
        supports_check_mode=True,
    )

    cmd = build_command(module, find_binary(module, module.params["binary"]))
    exit_code, stdout, stderr = module.run_command(
        cmd, data=module.params["content"], binary_data=True, check_rc=False
    )
    result = dict(changed=False, cmd=cmd, exit_code=exit_code, stdout=stdout, stderr=stderr)

    # mirrorctl prints its report also when it fails: files written before the failure are
    # changes all the same, and their restarts are due.
    report, no_report = read_report(stdout)
    if report is not None:
        result["changed"] = bool(report.get("changed"))
        result["files"] = [
            {"path": entry["path"], "action": entry["action"]} for entry in report.get("files") or []
        ]
        result["restart"] = list(report.get("restart") or [])
        result["written"] = list(report.get("written") or [])
        result["not_written"] = list(report.get("notWritten") or [])
        if report.get("error"):
            result["error"] = report["error"]
        if module._diff:
            result["diff"] = file_diffs(report)

    if exit_code not in (EXIT_UNCHANGED, EXIT_CHANGED):
        message = stderr.strip() or stdout.strip() or "mirrorctl exited with status %d" % exit_code
        if exit_code == EXIT_USAGE:
            message = "mirrorctl rejected its command line (exit status 64): %s" % message
        elif exit_code != EXIT_ERROR:
            message = "mirrorctl exited with status %d: %s" % (exit_code, message)
        module.fail_json(msg=message, **result)

    if report is None:
        module.fail_json(msg="mirrorctl printed no JSON report: %s" % no_report, **result)

    result["changed"] = exit_code == EXIT_CHANGED
    module.exit_json(**result)


if __name__ == "__main__":
    main()
