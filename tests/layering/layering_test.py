#!/usr/bin/env python3
"""The tree is the architecture: a layer's sources cannot include a higher layer's headers.

For each library, takes the compile command CMake recorded for one of its sources
(compile_commands.json) and compiles a one-line file that includes a header of every
layer above it (-fsyntax-only): each must fail with "No such file or directory"; and a
header of every layer it may use must compile. Prints one line per check and
'N passed, N failed' at the end.

Usage: layering_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

# Lowest first: (folder, a header it owns, the folders it may use besides itself).
LAYERS = [
    ("agent/base", "result.h", []),
    ("agent/host", "model.h", ["agent/base"]),
    ("flavors", "flavors.h", ["agent/base"]),
    ("agent/config", "config.h", ["agent/base", "flavors"]),
    ("agent/pools", "load_host.h", ["agent/base", "agent/host", "agent/config", "flavors"]),
    ("placement/http", "http_client.h", ["agent/base"]),
    ("placement/keystone", "keystone.h", ["agent/base", "placement/http"]),
    ("placement/api", "placement_client.h", ["agent/base", "placement/http"]),
    ("placement/reconcile", "reconcile.h", ["agent/base", "placement/http", "placement/api"]),
    ("agent/nova", "nova_config.h", ["agent/base", "agent/host", "agent/config", "agent/pools", "flavors"]),
    ("agent/doctor", "doctor.h", ["agent/base", "agent/host", "agent/config", "agent/pools", "flavors"]),
    ("agent/daemon", "report.h", ["agent/base", "agent/host", "agent/config", "agent/pools", "flavors",
                                  "placement/http", "placement/keystone", "placement/api", "placement/reconcile"]),
    ("agent/cli", "commands.h", None),  # the top: may use everything
]


def main():
    build, source = sys.argv[1], os.path.realpath(sys.argv[2])
    commands = json.load(open(os.path.join(build, "compile_commands.json")))
    header_of = {folder: header for folder, header, _ in LAYERS}
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe.cpp")
        for folder, _, may_use in LAYERS:
            if may_use is None:
                continue
            prefix = os.path.join(source, folder) + "/"
            entry = next((e for e in commands if e["file"].startswith(prefix) and "/" not in e["file"][len(prefix):]),
                         None)
            if entry is None:
                print(f"FAIL {folder}: no compile command for any of its sources")
                failed += 1
                continue
            args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
            i = args.index("-c")
            base = [a for a in args[:i] if a != "-o" and not a.endswith(".o")]
            for other, header in header_of.items():
                if other == folder:
                    continue
                allowed = other in may_use
                with open(probe, "w") as f:
                    f.write(f'#include "{header}"\n')
                r = subprocess.run(base + ["-fsyntax-only", probe], cwd=entry["directory"], capture_output=True,
                                   text=True)
                ok = (r.returncode == 0) if allowed else ("No such file or directory" in r.stderr)
                what = "may include" if allowed else "cannot include"
                print(f"{'ok  ' if ok else 'FAIL'} {folder} {what} {other}/{header}")
                if not ok:
                    print(r.stderr[-400:])
                passed += ok
                failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
