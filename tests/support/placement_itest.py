"""What the Python integration tests on a real Placement share (tests/flavors, tests/nova,
tests/matrix): the run itself (a scratch folder, the services it starts always stopped, their
logs printed on a failure), the environment they run in, a set-up client for Placement, compute
nodes made as nova-compute makes them, the agent's config for one, and a server's allocation
written from a flavor's allocation candidates. Standard library only."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid

from itest import Fail, run, write


def test_env(*watchers):
    """The environment of what a test starts: no developer's OS_* cloud, nova's code without
    eventlet's patching, and each WATCHER variable (PLACEMENT_SERVER_WATCH_PID, ...) naming this
    process, so a server stops when the test dies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_NOVA_DISABLE_EVENTLET_PATCHING"] = "1"
    for w in watchers:
        env[w] = str(os.getpid())
    return env


class Services:
    """The repository's scripts/*-server.sh services one test starts, each in its own state
    folder: started, stopped in reverse order, their logs shown when the test fails."""

    def __init__(self, root, env):
        self.root, self.env, self.started = root, env, []

    def _script(self, name):
        return os.path.join(self.root, "scripts", name)

    def start(self, script, state_dir):
        """Run `SCRIPT start STATE_DIR` to the end and return what it prints (the URL)."""
        self.started.append((script, state_dir))
        return run([self._script(script), "start", state_dir], env=self.env).stdout.strip()

    def start_background(self, script, state_dir):
        """The same, left running (a slow server set up meanwhile): wait_started() collects it."""
        self.started.append((script, state_dir))
        return subprocess.Popen([self._script(script), "start", state_dir], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)

    @staticmethod
    def wait_started(proc, what, timeout=300):
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise Fail("%s did not start:\n%s%s" % (what, out, err))
        return out.strip().splitlines()[-1]

    def print_logs(self):
        for _, d in self.started:
            for log in ("placement.log", "log"):
                p = os.path.join(d, log)
                if os.path.exists(p):
                    print("--- tail of " + p)
                    print(open(p, encoding="utf-8", errors="replace").read()[-3000:])

    def stop_all(self):
        for script, d in reversed(self.started):
            subprocess.run([self._script(script), "stop", d], capture_output=True, env=self.env)


def run_itest(prefix, root, body, watchers=("PLACEMENT_SERVER_WATCH_PID",)):
    """body(env, tmp, services) in a scratch folder; 0 when it returns, 1 with the first Fail
    (printed, with the services' logs). The services are stopped and the folder removed either way."""
    env = test_env(*watchers)
    tmp = tempfile.mkdtemp(prefix=prefix + ".")
    services = Services(root, env)
    try:
        body(env, tmp, services)
        return 0
    except Fail as e:
        print("FAIL " + str(e), flush=True)
        services.print_logs()
        return 1
    finally:
        services.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


class Placement:
    """Set-up calls as the admin of scripts/placement-server.sh's noauth2 Placement."""

    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-Auth-Token", "admin")
        req.add_header("OpenStack-API-Version", "placement 1.39")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if status not in ok:
            raise Fail("%s %s -> %d %s" % (method, path, status, raw[:500]))
        return json.loads(raw) if raw else None

    def create_compute_node(self, name):
        """As nova-compute registers a node: root provider, inventory (80 usable vCPUs), COMPUTE_NODE."""
        rp_uuid = str(uuid.uuid4())
        p = self.call("POST", "/resource_providers", {"name": name, "uuid": rp_uuid})
        gen = p["generation"]
        inv = {
            "VCPU": {"total": 96, "reserved": 16, "allocation_ratio": 1.0, "max_unit": 96},
            "MEMORY_MB": {"total": 1048576, "reserved": 65536, "allocation_ratio": 1.0, "max_unit": 1048576},
            "DISK_GB": {"total": 7000, "reserved": 0, "allocation_ratio": 1.0, "max_unit": 7000},
        }
        r = self.call("PUT", "/resource_providers/%s/inventories" % rp_uuid,
                      {"resource_provider_generation": gen, "inventories": inv})
        self.call("PUT", "/resource_providers/%s/traits" % rp_uuid,
                  {"resource_provider_generation": r["resource_provider_generation"], "traits": ["COMPUTE_NODE"]})
        return rp_uuid

    def claim(self, querystring, host):
        """A server's allocation on HOST, as the scheduler writes it: the first allocation
        candidate of a flavor's query (querystring) that lands there."""
        cands = self.call("GET", "/allocation_candidates?" + querystring)
        names = {rp["uuid"]: rp["name"] for rp in self.call("GET", "/resource_providers")["resource_providers"]}
        for req in cands["allocation_requests"]:
            if any(names[u] == host for u in req["allocations"]):
                body = {"allocations": req["allocations"], "project_id": str(uuid.uuid4()),
                        "user_id": str(uuid.uuid4()), "consumer_generation": None, "consumer_type": "INSTANCE"}
                self.call("PUT", "/allocations/" + str(uuid.uuid4()), body)
                return
        raise Fail("no allocation candidate on %s for %s" % (host, querystring))


class Room:
    """What each host has left for servers, as the scheduler must see it: its GPUs (host -> count
    given) and 80 vCPUs (what create_compute_node offers)."""

    def __init__(self, gpus):
        self.gpus, self.vcpus = dict(gpus), {host: 80 for host in gpus}

    def fits(self, host, flavor):
        return self.gpus[host] >= flavor["gpus"] and self.vcpus[host] >= flavor["vcpus"]

    def take(self, pl, querystring, host, flavor):
        """A server of FLAVOR on HOST: its allocation written (Placement.claim), its room taken."""
        pl.claim(querystring, host)
        self.gpus[host] -= flavor["gpus"]
        self.vcpus[host] -= flavor["vcpus"]


def agent_config(tmp, name, url, sections="", agent=""):
    """gpu-agent's config for compute node NAME against the Placement at URL (admin token), its
    state under TMP/state-NAME; AGENT: more [agent] lines, SECTIONS: more sections. Returns the path."""
    state = os.path.join(tmp, "state-" + name)
    os.makedirs(state, exist_ok=True)
    return write(os.path.join(tmp, name + ".conf"),
                 "[agent]\ncompute_node_name = %s\nstate_dir = %s\nretry_max = 1\n%s"
                 "[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = %s\n%s"
                 % (name, state, agent, url, sections))
