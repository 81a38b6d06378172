#!/usr/bin/env python3
"""Benchmark (not a test): how long the daemon takes from SIGTERM to exit while its
request hangs on a silent Placement with [placement] timeout = 30 (BENCHMARKS.md).
Usage: tests/reliability/bench_stop_time.py build/agent/gpu-agent tests/data [RUNS]"""
import os
import sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Env
from hostile_placement import FakePlacement
E = Env(sys.argv[1], sys.argv[2])
ts = []
for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 5):
    with FakePlacement("silent") as fp:
        with E.daemon(E.conf(fp.url, timeout="30")) as d:
            while fp.count() == 0: time.sleep(0.02)
            time.sleep(0.5)
            rc, took = d.stop()
            ts.append(took)
print("SIGTERM to exit with a request hanging (timeout = 30): " + ", ".join("%.3f" % t for t in ts) + " s")
