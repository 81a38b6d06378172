# Ansible connection plugin: run the tasks inside a booted container (for
# example systemd-nspawn) by entering the namespaces of its PID 1 with
# nsenter(1) from the controller. Used by tests/systemd/rollout_test.sh to
# apply the gpu_agent role to a container whose PID 1 is a real systemd.
from __future__ import annotations

import os
import shlex
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = """
name: nsenter
short_description: run tasks in a container through nsenter into its PID 1
description:
  - Every command runs as C(nsenter --target PID --all --root --wd /bin/sh -c CMD),
    so it sees the container's mounts, PID 1, network and hostname.
  - Files are copied in and out through the same nsenter (cat), so they land in the
    container's own view of the file system (its /tmp, /run, ...).
author: GPU Placement Agent maintainers
options:
  remote_addr:
    description: the host PID of the container's PID 1
    default: inventory_hostname
    vars:
      - name: ansible_host
      - name: ansible_nsenter_pid
"""

# What a command inside sees, whatever the controller's environment holds.
_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
}


class Connection(ConnectionBase):
    transport = "nsenter"
    has_pipelining = True
    default_user = "root"

    def _pid(self) -> str:
        pid = str(self.get_option("remote_addr"))
        if not pid.isdigit():
            raise AnsibleConnectionFailure(f"nsenter: ansible_host must be the container's PID 1 as a host PID, not {pid!r}")
        if not os.path.exists(f"/proc/{pid}"):
            raise AnsibleConnectionFailure(f"nsenter: no process {pid} (is the container still running?)")
        return pid

    def _nsenter(self, argv: list[str]) -> list[str]:
        return ["nsenter", "--target", self._pid(), "--all", "--root", "--wd", "--", *argv]

    def _connect(self):
        self._pid()
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        argv = self._nsenter(["/bin/sh", "-c", cmd])
        self._display.vvv(f"EXEC {shlex.join(argv)}", host=self._play_context.remote_addr)
        proc = subprocess.run(
            argv,
            input=in_data,
            stdin=None if in_data is not None else subprocess.DEVNULL,
            capture_output=True,
            env=_ENV,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        with open(in_path, "rb") as src:
            proc = subprocess.run(
                self._nsenter(["/bin/sh", "-c", f"cat > {shlex.quote(out_path)}"]),
                stdin=src, capture_output=True, env=_ENV, check=False)
        if proc.returncode != 0:
            raise AnsibleError(f"nsenter: copying {in_path} to {out_path} failed: {proc.stderr.decode(errors='replace')}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        with open(out_path, "wb") as dst:
            proc = subprocess.run(
                self._nsenter(["/bin/cat", "--", in_path]), stdout=dst, stderr=subprocess.PIPE, env=_ENV, check=False)
        if proc.returncode != 0:
            raise AnsibleError(f"nsenter: fetching {in_path} failed: {proc.stderr.decode(errors='replace')}")

    def close(self):
        self._connected = False
