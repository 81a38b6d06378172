#!/bin/bash
# Inventory of the 8x A40 SR-IOV bench tree against lspci -nnk on the same tree,
# in the same run, on a machine with no compiler or packages of ours (the lent
# GPU host): BENCHMARKS.md "Inventory on the lent 16-core host".
# The bundle is the folder this script is copied into, next to:
#   gpu-agent, gpu-agent-old   stripped builds (new, and one to compare with)
#   make-bench-host            tests/bench's tree writer (build target make-bench-host)
#   lspci, pci.ids             from Debian 12's pciutils and pci.ids
#   rss                        tests/bench/maxrss.c built with gcc -O2 -static
#   lib/                       ld-linux-x86-64.so.2 and every library ldd lists
#                              for the three binaries; icudata.xz: libicudata
#                              xz-compressed (unpacked to lib/ at run time)
# Usage: BUNDLE/bench-inventory-bundle.sh  (writes bench.txt, bench-1cpu.txt to $OUT)
# Timing: alternating runs, 3 rounds of 40, then all pinned to one CPU; peak
# RSS: max of 5 runs through rss (a static fork+wait4, so no parent's pages count).
S=$(cd "$(dirname "$0")" && pwd)
set -u
D=/tmp/ga; rm -rf "$D"; cp -a "$S" "$D"; xz -dc "$S/icudata.xz" > "$D/lib/libicudata.so.72"
O=${OUT:-/tmp/out}; mkdir -p "$O"
L="$D/lib/ld-linux-x86-64.so.2 --library-path $D/lib"
echo "== host"; uname -r; nproc; grep -m1 'model name' /proc/cpuinfo; uptime
W=/dev/shm/ga-bench; rm -rf $W; mkdir -p $W
$L $D/make-bench-host $W/sys 8
cat > $D/t.py <<'PY'
import os, resource, subprocess, sys, time, statistics
L = sys.argv[1].split(); D = sys.argv[2]; root = sys.argv[3]; runs = int(sys.argv[4])
cmds = {
 'lspci': L + [D+'/lspci', '-nnk', '-D', '-A', 'linux-sysfs', '-O', 'sysfs.path='+root+'/bus/pci', '-i', D+'/pci.ids'],
 'agent-table': L + [D+'/gpu-agent', 'inventory', '--sysfs-root', root, '--pci-ids', D+'/pci.ids'],
 'agent-json': L + [D+'/gpu-agent', 'inventory', '--sysfs-root', root, '--pci-ids', D+'/pci.ids', '--json'],
 'old-table': L + [D+'/gpu-agent-old', 'inventory', '--sysfs-root', root, '--pci-ids', D+'/pci.ids'],
}
for k, c in cmds.items():
    r = subprocess.run(c, capture_output=True)
    print(k, 'rc', r.returncode, 'bytes', len(r.stdout), r.stderr[:200])
t = {k: [] for k in cmds}; rss = {}
for i in range(runs):
    for k, c in cmds.items():
        t0 = time.perf_counter(); subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); t[k].append((time.perf_counter()-t0)*1e3)
for k, c in cmds.items():
    rss[k] = max(int(subprocess.run([D+'/rss'] + c, capture_output=True, text=True).stdout) for _ in range(5))
lm = statistics.mean(t['lspci']); ln = min(t['lspci'])
for k in cmds:
    m = statistics.mean(t[k]); n = min(t[k])
    print(f"{k:12s} mean {m:7.2f} ms  min {n:7.2f} ms  median {statistics.median(t[k]):7.2f}  vs lspci mean {m/lm:.2f}x min {n/ln:.2f}x  peak RSS {rss[k]} KiB")
PY
for r in 1 2 3; do echo "== round $r"; python3 $D/t.py "$L" $D $W/sys 40; done 2>&1 | tee "$O/bench.txt"
echo "== same, agent limited to 1 CPU (taskset -c 0 for all)"; taskset -c 0 python3 $D/t.py "$L" $D $W/sys 20 2>&1 | tee "$O/bench-1cpu.txt"
cmp <($L $D/gpu-agent inventory --sysfs-root $W/sys --pci-ids $D/pci.ids) <($L $D/gpu-agent-old inventory --sysfs-root $W/sys --pci-ids $D/pci.ids) && echo "table output identical old/new"
command -v strace >/dev/null && echo has strace
rm -rf $W
