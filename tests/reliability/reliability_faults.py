#!/usr/bin/env python3
"""reliability_faults: the real gpu-agent against a hostile Placement
(hostile_placement.py) and hostile files, on 127.0.0.1 only, no root needed
except for the non-root case (which then runs as nobody). Asserts exit codes,
time bounds and request rates; the reload, lock, stop and path cases of
issue 15. Usage: reliability_faults.py AGENT DATA_DIR UNPACK_TOOL"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Env, check, run_cases  # noqa: E402
from hostile_placement import FakePlacement  # noqa: E402

AGENT, DATA, UNPACK = sys.argv[1], sys.argv[2], sys.argv[3]
E = Env(AGENT, DATA)


# --- a hostile Placement: every fault ends the pass in time, with the URL and why, without a storm ---

def report_against(mode, timeout="1"):
    with FakePlacement(mode) as fp:
        conf = E.conf(fp.url, timeout=timeout)
        rc, out, took = E.run(conf, "report", "--once", timeout=60)
        return fp, rc, out, took


def test_each_fault_ends_report_once_with_exit_1_in_time():
    expect = {"500": "500", "garbage": "unexpected response", "silent": "timed out after 1 s",
              "slow": "timed out after 1 s", "huge": "larger than 16777216 bytes",
              "chunked": "larger than 16777216 bytes", "redirect": "302"}
    for mode, words in expect.items():
        fp, rc, out, took = report_against(mode)
        check(rc == 1, "%s: exit 1, got %d" % (mode, rc), out)
        check(took < 8, "%s: done within 8 s (timeout = 1), took %.1f s" % (mode, took), out)
        check(fp.url in out and words in out, "%s: message names %s and says '%s'" % (mode, fp.url, words), out)
        check(fp.count() <= 2, "%s: at most 2 requests, got %d" % (mode, fp.count()), out)
    check(fp.redirect_hits == 0, "redirect not followed")


def test_401_is_fatal_at_once_and_says_what_was_tried():
    fp, rc, out, took = report_against("401")
    check(rc == 1, "exit 1, got %d" % rc, out)
    check("401" in out and "a static token, which cannot be refreshed" in out,
          "the message says the static token cannot be refreshed (not 'refreshed once')", out)
    check(fp.count("GET", "/resource_providers") == 1,
          "the refused request is not sent again with the same token (sent %d times)"
          % fp.count("GET", "/resource_providers"), out)


def test_409_forever_ends_the_pass_bounded_and_names_the_request():
    fp, rc, out, took = report_against("conflict")
    check(rc == 1, "exit 1, got %d" % rc, out)
    check(took < 10, "5 attempts with jitter stay under 10 s, took %.1f" % took, out)
    writes = fp.count("PUT") + fp.count("POST") + fp.count("DELETE")
    check(writes == 5, "one refused write per attempt, 5 attempts: got %d writes" % writes, out)
    check(re.search(r"5 conflicts in a row; the last: create pool \S+ under \S+ for 8 GPU\(s\): POST http", out),
          "the message names the last conflicting request", out)


def test_daemon_backs_off_without_a_storm_and_logs_sub_second_waits():
    with FakePlacement("500") as fp:
        conf = E.conf(fp.url)
        with E.daemon(conf) as d:
            time.sleep(3)
            rc, _ = d.stop()
            out = d.output()
        n = fp.count()
        check(3 <= n <= 3 / 0.2 + 2, "retries every 0.2..0.5 s: %d requests in 3 s" % n, out)
        check(rc == 0, "SIGTERM exits 0", out)
        check(re.search(r"retrying in 0\.\d+ s", out) and "retrying in 1 s" not in out,
              "backoff below a second is logged as such, not as '1 s'", out)


def test_creation_race_loser_ends_as_wanted_with_exit_0():
    fp, rc, out, took = report_against("race")
    check(fp.raced, "the race happened")
    check(rc == 0, "the pass re-reads after 409 duplicate_name and finishes: exit 0, got %d" % rc, out)
    pools = [p for p in fp.state.providers.values() if p["parent_provider_uuid"]]
    check(len(pools) == 1 and "CUSTOM_GPU_AGENT_MANAGED" in str(fp.state.traits[pools[0]["uuid"]]) or
          len(pools) == 1, "one pool in the end", out)
    check(fp.state.inventories[pools[0]["uuid"]], "the pool got its inventory", out)


# --- stop: SIGTERM cancels the request in flight ---

def test_sigterm_cancels_the_request_in_flight():
    with FakePlacement("silent") as fp:
        conf = E.conf(fp.url, timeout="30")
        with E.daemon(conf) as d:
            end = time.monotonic() + 10
            while fp.count() == 0 and time.monotonic() < end:
                time.sleep(0.05)
            check(fp.count() == 1, "the daemon's request reached the silent server")
            time.sleep(0.3)
            rc, took = d.stop(timeout=40)
            out = d.output()
    check(rc == 0, "exit 0 on SIGTERM, got %d" % rc, out)
    check(took < 3, "exits within 3 s with a 30 s request timeout (took %.2f s)" % took, out)


# --- reload: a bad file never kills the daemon ---

def test_sighup_with_a_bad_config_keeps_the_old_one():
    with FakePlacement("ok") as fp:
        conf = E.conf(fp.url)
        with open(conf) as f:
            good = f.read()
        with E.daemon(conf, "--interval", "0.5") as d:
            check(d.wait_for("running;"), "daemon started", d.output())
            bad = {
                "empty file": "",
                "half-written file": good[: good.index("token = admin")],
                "NUL in a value": good.replace("timeout = 1", "timeout = 1\0junk"),
                "unknown auth_type": good.replace("admin_token", "admin_tokn"),
            }
            n = 0
            for what, text in list(bad.items()) + [("directory", None)]:
                if text is None:
                    os.rename(conf, conf + ".away")
                    os.mkdir(conf)
                else:
                    with open(conf, "w") as f:
                        f.write(text)
                n += 1
                d.signal(signal.SIGHUP)
                check(d.wait_for("configuration not reloaded", count=n, timeout=10),
                      "%s: the reload is refused" % what, d.output())
                time.sleep(0.3)
                check(d.alive(), "%s: the daemon is still running" % what, d.output())
                line = [ln for ln in d.output().splitlines() if "configuration not reloaded" in ln][-1]
                check(conf in line, "%s: the message names the file: %s" % (what, line))
                if text is None:
                    check("is a directory" in line, "directory: says so: " + line)
                    os.rmdir(conf)
                    os.rename(conf + ".away", conf)
            check(re.search(re.escape(conf) + r":\d+: contains a NUL byte", d.output()), "NUL: file:line", d.output())
            with open(conf, "w") as f:
                f.write(good)
            d.signal(signal.SIGHUP)
            check(d.wait_for("configuration reloaded"), "the good file is taken", d.output())
            rc, took = d.stop()
            check(rc == 0 and took < 3, "stops with 0 (rc %d, %.1f s)" % (rc, took), d.output())


# --- files: what the path is, and the fix ---

def test_config_that_is_a_directory_fifo_or_empty_is_named():
    d = E.path("confdir")
    os.mkdir(d)
    fifo = E.path("conf.fifo")
    os.mkfifo(fifo)
    empty = E.path("empty.conf")
    open(empty, "w").close()
    # an empty config is all defaults, which report cannot run with: the message names the file
    for path, words in ((d, "is a directory"), (fifo, "is a FIFO"), (empty, "(no [placement] section): auth_type")):
        rc, out, took = E.run(path, "report", "--once", timeout=20)
        check(rc == 2, "%s: exit 2, got %d" % (words, rc), out)
        check(path in out and words in out, "names %s and says '%s'" % (path, words), out)


def test_state_paths_that_are_not_what_they_should_be():
    with FakePlacement("ok") as fp:
        state = E.path("state")
        os.makedirs(os.path.join(state, "state.json"))
        rc, out, _ = E.run(E.conf(fp.url, state_dir=state), "report", "--once")
        check(os.path.join(state, "state.json") + " is a directory" in out, "state.json as a directory is named", out)
        check(rc == 0, "the pass itself works (exit %d)" % rc, out)
        file_state = E.path("state-file")
        open(file_state, "w").close()
        rc, out, _ = E.run(E.conf(fp.url, state_dir=file_state), "report", "--once")
        check(rc == 2 and file_state + " is a regular file, not a directory" in out, "state_dir as a file", out)


def test_torn_state_is_reported():
    with FakePlacement("ok") as fp:
        state = E.path("state")
        conf = E.conf(fp.url, state_dir=state)
        rc, out, _ = E.run(conf, "report", "--once")
        check(rc == 0, "first pass", out)
        with open(os.path.join(state, "state.json"), "r+") as f:
            f.truncate(7)
        rc, out, _ = E.run(conf, "report", "--once")
        check(rc == 0 and "rebuilding it from placement" in out and "state rebuilt from placement: 1 pool" in out,
              "a torn state.json is reported and rebuilt", out)
        with open(os.path.join(state, "state.json")) as f:
            text = f.read()
        check('"owned_traits"' in text and "CUSTOM_GPU_AGENT_MANAGED" in text, "written back", text)


# --- one agent per state directory ---

def test_second_agent_on_the_same_state_dir_exits_3_naming_the_holder():
    with FakePlacement("ok") as fp:
        conf = E.conf(fp.url)
        with E.daemon(conf, "--interval", "0.5") as d:
            check(d.wait_for("running;"), "first daemon up", d.output())
            for args in (("run",), ("report", "--once")):
                rc, out, took = E.run(conf, *args, timeout=20)
                check(rc == 3, "%s: exit 3, got %d" % (args[0], rc), out)
                check("PID %d" % d.pid in out and "/lock" in out, "%s: names PID %d and the lock" % (args[0], d.pid),
                      out)
                check(took < 5, "%s: at once" % args[0], out)
            rc, out, _ = E.run(conf, "report", "--dry-run")
            check(rc == 0, "a dry run takes no lock (exit %d)" % rc, out)
            rc, _ = d.stop()
        rc, out, _ = E.run(conf, "report", "--once")
        check(rc == 0, "after the daemon stopped the lock is free (exit %d)" % rc, out)
    rc, out, _ = E.run(None, "report", "--help", host=None)
    check("3\nanother gpu-agent holds" in out.replace("), 3 ", ")\n3 ").replace(", 3\n", "\n3 ") or
          "3 another gpu-agent holds" in out.replace("\n", " "), "--help documents exit code 3", out)


# --- the small defects ---

def test_config_values_nul_bounds_bom_and_binary():
    with FakePlacement("ok") as fp:
        base = E.conf(fp.url)
        with open(base) as f:
            good = f.read()

        def conf_with(text, name):
            p = E.path(name)
            with open(p, "wb") as f:
                f.write(text if isinstance(text, bytes) else text.encode())
            return p
        rc, out, _ = E.run(conf_with(good.replace("timeout = 1", "timeout = 1\0junk"), "nul.conf"), "report", "--once")
        check(rc == 2 and "NUL" in out, "text after a NUL is not dropped silently", out)
        rc, out, _ = E.run(conf_with(good.replace("timeout = 1", "timeout = 0"), "zero.conf"), "report", "--once")
        check(rc == 2 and "'0' is not a number from 0.1 to 3600" in out, "the bound is shown as 0.1", out)
        rc, out, _ = E.run(conf_with(b"\xef\xbb\xbf" + good.encode(), "bom.conf"), "report", "--once")
        check(rc == 0, "a UTF-8 BOM is accepted", out)
        rc, out, _ = E.run(conf_with(good.replace("timeout = 1", "timeout = \x01\x7f") .encode() + b"\nx\xff\xfe = 1\n",
                                     "bin.conf"), "report", "--once")
        check(rc == 2 and "\\x01\\x7F" in out and "\x01" not in out, "binary shown escaped", out)
        rc, out, _ = E.run(conf_with(b"[agent]\n\xef\xbb\xbfinterval = 5\n", "bom2.conf"), "report", "--once")
        check("\\xEF\\xBB\\xBF" in out, "an invisible BOM inside the file is shown", out)


def test_missing_cafile_is_named():
    ca = "/nonexistent/rel-ca.pem"
    conf = E.conf("https://127.0.0.1:1", placement_extra="cafile = %s\n" % ca)
    rc, out, _ = E.run(conf, "report", "--once")
    check(rc == 2 and ca in out and "No such file" in out and "asio.ssl" not in out, "missing cafile named", out)


def test_interval_option_is_what_the_log_says():
    with FakePlacement("ok") as fp:
        with E.daemon(E.conf(fp.url), "--interval", "1") as d:
            check(d.wait_for("running;"), "started", d.output())
            d.stop()
            check("every 1 s" in d.output() and "every 60 s" not in d.output(), "logs every 1 s", d.output())


def test_numa_node_out_of_range_is_warned():
    fx = E.path("numa.sysfs.txt")
    with open(E.fixture) as f:
        text = f.read()
    gpu = re.search(r"^f (\S+)/class = 0x0302", text, re.M).group(1)  # the first 3D controller
    text = re.sub(r"^f %s/numa_node = .*$" % re.escape(gpu), "f %s/numa_node = -7" % gpu, text, count=1, flags=re.M)
    with open(fx, "w") as f:
        f.write(text)
    rc, out, _ = E.run(None, "inventory", "--fixture", fx, "--json", host=None)
    check("-7 is not a NUMA node" in out, "NUMA node -7 is warned about", out)


# --- crash safety and a non-root agent ---

def test_state_is_fsynced_before_rename_and_the_directory_after():
    if not shutil.which("strace"):
        raise Exception("strace is not installed (scripts/install-deps.sh)")
    with FakePlacement("ok") as fp:
        state = E.path("state")
        conf = E.conf(fp.url, state_dir=state)
        trace = E.path("strace.txt")
        rc, out, _ = E.run(conf, "report", "--once",
                           prefix=("strace", "-f", "-o", trace, "-e", "trace=openat,fsync,fdatasync,rename,renameat,"
                                   "renameat2,close"))
        check(rc == 0, "pass under strace", out)
        with open(trace) as f:
            calls = f.read().splitlines()
    tmp_fd = rename_at = synced_at = None
    for i, ln in enumerate(calls):
        m = re.search(r'openat\(.*"[^"]*state\.json\.tmp\.\d+".* = (\d+)$', ln)
        if m:
            tmp_fd = m.group(1)
        if tmp_fd and synced_at is None and re.search(r"\b(fsync|fdatasync)\(%s\)" % tmp_fd, ln):
            synced_at = i
        if rename_at is None and re.search(r'rename\w*\(.*state\.json\.tmp\.\d+".*state\.json"', ln):
            rename_at = i
    check(tmp_fd and rename_at, "state.json written through a temp file and renamed", "\n".join(calls))
    check(synced_at is not None and synced_at < rename_at, "the temp file is fsynced before the rename", "\n".join(calls))
    after = "\n".join(calls[rename_at:])
    m = re.search(r'openat\(.*"%s".*O_DIRECTORY.* = (\d+)' % re.escape(state), after)
    check(m and re.search(r"fsync\(%s\)" % m.group(1), after), "the directory is fsynced after", after)


def test_non_root_agent_over_unreadable_sysfs_files():
    if os.geteuid() != 0:
        print("  (not root: the non-root case needs root to switch to nobody; skipped)")
        return
    root = E.path("sysfs")
    subprocess.run([UNPACK, E.fixture, root], check=True)
    devices = os.path.join(root, "bus", "pci", "devices")
    hidden = ["0000:07:00.0/numa_node", "0000:0f:00.0/vendor"]  # optional, then required
    for dirpath, dirs, _ in os.walk(E.tmp):
        os.chmod(dirpath, 0o755)
    for h in hidden:
        os.chmod(os.path.realpath(os.path.join(devices, h)), 0)
    rc, out, _ = E.run(None, "inventory", "--sysfs-root", root, "--libvirt-uri", "none", host=None,
                       prefix=("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"))
    check(rc == 0, "no crash: exit 0 (got %d)" % rc, out)
    for h in hidden:
        check(re.search(re.escape(h) + r": Permission denied \(gpu-agent runs as nobody; give nobody read access", out),
              "names %s, the user and the fix" % h, out)
    check(re.search(r"0000:0f:00.0 .*NO", out) and re.search(r"0000:07:00.0 .*yes", out),
          "the GPU without a vendor is not ready; the one without numa_node is", out)


run_cases([
    test_each_fault_ends_report_once_with_exit_1_in_time,
    test_401_is_fatal_at_once_and_says_what_was_tried,
    test_409_forever_ends_the_pass_bounded_and_names_the_request,
    test_daemon_backs_off_without_a_storm_and_logs_sub_second_waits,
    test_creation_race_loser_ends_as_wanted_with_exit_0,
    test_sigterm_cancels_the_request_in_flight,
    test_sighup_with_a_bad_config_keeps_the_old_one,
    test_config_that_is_a_directory_fifo_or_empty_is_named,
    test_state_paths_that_are_not_what_they_should_be,
    test_torn_state_is_reported,
    test_second_agent_on_the_same_state_dir_exits_3_naming_the_holder,
    test_config_values_nul_bounds_bom_and_binary,
    test_missing_cafile_is_named,
    test_interval_option_is_what_the_log_says,
    test_numa_node_out_of_range_is_warned,
    test_state_is_fsynced_before_rename_and_the_directory_after,
    test_non_root_agent_over_unreadable_sysfs_files,
])
