#!/usr/bin/env python3
"""reliability_placement: the real gpu-agent against the real Placement
(scripts/placement-server.sh: Debian's python3-placement on 127.0.0.1,
noauth2). Placement is killed and started again under a running daemon; a
torn state.json is rebuilt from Placement without losing what the agent owns.
Usage: reliability_placement.py AGENT DATA_DIR PLACEMENT_SERVER_SCRIPT"""
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Env, check, run_cases  # noqa: E402

AGENT, DATA, SCRIPT = sys.argv[1], sys.argv[2], sys.argv[3]
E = Env(AGENT, DATA)
PDIR = E.path("placement")
ENV = dict(os.environ, PLACEMENT_SERVER_WATCH_PID=str(os.getpid()), PLACEMENT_SERVER_RESET="1")
URL = subprocess.run([SCRIPT, "start", PDIR, "0"], check=True, stdout=subprocess.PIPE, env=ENV,
                     timeout=120).stdout.decode().strip().splitlines()[-1]
PORT = URL.rsplit(":", 1)[1]


def api(method, path, body=None):
    req = urllib.request.Request(URL + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
                                          "Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text else None


def compute_node(name):
    u = str(uuid.uuid4())
    api("POST", "/resource_providers", {"name": name, "uuid": u})
    return u


def pools_of(root):
    return [p for p in api("GET", "/resource_providers?in_tree=" + root)["resource_providers"] if p["uuid"] != root]


def traits_of(u):
    return set(api("GET", "/resource_providers/%s/traits" % u)["traits"])


def test_placement_killed_and_restarted_under_a_running_daemon():
    host = "rel-restart-%d" % os.getpid()
    root = compute_node(host)
    conf = E.conf(URL, timeout="2")
    with E.daemon(conf, "--interval", "0.5", host=host) as d:
        check(d.wait_for("create pool", timeout=20), "first pass created the pool", d.output())
        subprocess.run([SCRIPT, "stop", PDIR], check=True, env=ENV, timeout=60)
        check(d.wait_for("retrying in", timeout=15), "the daemon backs off while placement is gone", d.output())
        time.sleep(1.5)
        check(d.alive(), "still running without placement", d.output())
        restarted = subprocess.run([SCRIPT, "start", PDIR, PORT], check=True, stdout=subprocess.PIPE,
                                   env=dict(ENV, PLACEMENT_SERVER_RESET="0"), timeout=120).stdout.decode()
        check(URL in restarted, "placement back on the same port", restarted)
        check(d.wait_for("placement reachable again", timeout=20), "the daemon recovers", d.output())
        check(len(pools_of(root)) == 1, "the pool is still there, once", d.output())
        rc, took = d.stop()
        check(rc == 0 and took < 3, "stops with 0 within 3 s (rc %d, %.1f s)" % (rc, took), d.output())


def test_torn_state_is_rebuilt_with_ownership_kept():
    host = "rel-torn-%d" % os.getpid()
    root = compute_node(host)
    state = E.path("state")
    pool = ("default_pools = false\n[pool:a100]\nmatch = 10de:20b2\nresource_class = CUSTOM_REL_A100\n"
            "traits = %s\n")
    conf = E.conf(URL, agent_extra="", state_dir=state)
    with open(conf, "a") as f:
        f.write("[agent]\n" + pool % "CUSTOM_REL_OLD, CUSTOM_REL_KEEP")
    rc, out, _ = E.run(conf, "report", "--once", host=host)
    check(rc == 0, "first pass", out)
    (p,) = pools_of(root)
    check({"CUSTOM_REL_OLD", "CUSTOM_REL_KEEP"} <= traits_of(p["uuid"]), "pool traits set", out)
    # a power loss after the pass: state.json torn
    with open(os.path.join(state, "state.json"), "r+") as f:
        f.truncate(5)
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("CUSTOM_REL_OLD, CUSTOM_REL_KEEP", "CUSTOM_REL_KEEP"))
    rc, out, _ = E.run(conf, "report", "--once", host=host)
    check(rc == 0, "second pass", out)
    check("rebuilding it from placement" in out, "the torn file is reported", out)
    traits = traits_of(p["uuid"])
    check("CUSTOM_REL_OLD" not in traits and "CUSTOM_REL_KEEP" in traits,
          "the agent still owns what it set: the trait dropped from the config is removed (%s)" % sorted(traits), out)
    with open(os.path.join(state, "state.json")) as f:
        check(p["uuid"] in f.read(), "state.json written again")


try:
    run_cases([
        test_placement_killed_and_restarted_under_a_running_daemon,
        test_torn_state_is_rebuilt_with_ownership_kept,
    ])
finally:
    subprocess.run([SCRIPT, "stop", PDIR], env=ENV, timeout=60)
