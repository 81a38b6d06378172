"""What the project's Python integration tests share: a failure type, a check
that prints what held (with the time since the test started), running a command
that must succeed, and writing a file. Standard library only."""
import subprocess
import time

T0 = time.monotonic()


class Fail(Exception):
    """A check that did not hold; the test prints it and exits 1."""


def log(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def check(cond, what):
    if not cond:
        raise Fail(what)
    log("ok   " + what)


def run(argv, env=None, ok=True, input_text=None):
    """Run argv; with ok=True a non-zero exit is a Fail carrying the output's tails."""
    p = subprocess.run(argv, capture_output=True, text=True, env=env, input=input_text)
    if ok and p.returncode != 0:
        raise Fail("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (" ".join(argv), p.returncode, p.stdout[-3000:],
                                                             p.stderr[-3000:]))
    return p


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
