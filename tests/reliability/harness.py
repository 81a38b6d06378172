"""What the reliability tests share: running the real gpu-agent, a daemon
under test, configs, and a tiny runner (each case prints PASS/FAIL; any
failure makes the exit status 1)."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

FAILURES = []


class Fail(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise Fail(what + ("\n--- output ---\n" + detail[-3000:] if detail else ""))


def run_cases(cases):
    for case in cases:
        start = time.monotonic()
        try:
            case()
            print("PASS %-55s %5.1f s" % (case.__name__, time.monotonic() - start), flush=True)
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            FAILURES.append(case.__name__)
            print("FAIL %s: %s" % (case.__name__, e), flush=True)
            if not isinstance(e, Fail):
                traceback.print_exc()
    if FAILURES:
        print("%d case(s) failed: %s" % (len(FAILURES), ", ".join(FAILURES)))
        sys.exit(1)
    print("all %d cases passed" % len(cases))


class Env:
    def __init__(self, agent, data):
        self.agent = agent
        self.data = data
        self.tmp = tempfile.mkdtemp(prefix="gpu-agent-rel-")
        os.chmod(self.tmp, 0o755)
        self.fixture = os.path.join(data, "hosts", "a100-8x-passthrough.sysfs.txt")
        self.n = 0

    def path(self, name):
        self.n += 1
        return os.path.join(self.tmp, "%d-%s" % (self.n, name))

    def conf(self, url, agent_extra="", placement_extra="", timeout="1", state_dir=None, name="agent.conf"):
        p = self.path(name)
        state_dir = state_dir or self.path("state")
        text = ("[agent]\nstate_dir = %s\nlibvirt_uri = none\njitter = 0\nretry_min = 0.2\nretry_max = 0.5\n%s"
                "[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = %s\ntimeout = %s\n%s"
                % (state_dir, agent_extra, url, timeout, placement_extra))
        with open(p, "w") as f:
            f.write(text)
        return p

    def cmd(self, conf, *args, host="rel-node"):
        c = [self.agent]
        if conf:
            c += ["--config", conf]
        c += list(args)
        if host and args and args[0] in ("report", "run"):
            c += ["--fixture", self.fixture, "--hostname", host]
        return c

    def run(self, conf, *args, timeout=60, host="rel-node", env=None, prefix=()):
        start = time.monotonic()
        p = subprocess.run(list(prefix) + self.cmd(conf, *args, host=host), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, env=env)
        return p.returncode, p.stdout.decode("utf-8", "backslashreplace"), time.monotonic() - start

    def daemon(self, conf, *args, host="rel-node"):
        return Daemon(self.cmd(conf, "run", *args, host=host), self.path("daemon.log"))


class Daemon:
    def __init__(self, cmd, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "backslashreplace")

    def wait_for(self, text, timeout=15, count=1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.output().count(text) >= count:
                return True
            if self.proc.poll() is not None:
                return self.output().count(text) >= count
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        """SIGTERM; returns (exit code, seconds it took)."""
        start = time.monotonic()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc, time.monotonic() - start

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
