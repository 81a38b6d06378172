// gpu-agent report (one reconcile pass) and run (the daemon).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "compute_id.h"
#include "commands.h"
#include "file_check.h"
#include "lock_file.h"
#include "log.h"
#include "observe.h"
#include "parse.h"
#include "report.h"

namespace gpu_agent {

const char* const kReportHelp = R"(Usage: gpu-agent [--config FILE] report [--once] [--dry-run] [OPTIONS]

One reconcile pass: read this host's GPUs, derive the pools (one per GPU model
of whole GPUs ready for passthrough, or as [pool:NAME] sections say), find the
compute node provider nova created (by the UUID in nova 2023.1+'s compute_id
file, [agent] nova_compute_id, checked against its name; else by its
hypervisor hostname), and create or
update the pool providers under it with their inventory and traits, and the
host traits on the compute node. Traits somebody else set are never removed;
providers the agent does not own are never touched.

Options:
  --once                 one pass (the default for `report`)
  --dry-run              print the planned requests; send no writes
  --nova-config FILE     reuse [placement] credentials from nova.conf
  --fixture, --sysfs-root, --pci-ids, --libvirt-uri, --hostname: where the
                         host is read from, and the compute node's name (below)
  -v, --verbose          log every request

Exit codes: 0 done (or nothing to do), 1 placement or keystone failed (the
message says which request and why), 2 bad config (file, line and key), 3
another gpu-agent holds [agent] state_dir/lock (the message names its PID;
--dry-run takes no lock).

Example (a lab Placement with noauth2):
  printf '[placement]
auth_type = admin_token
token = admin
endpoint_override = http://127.0.0.1:8778
' > lab.conf
  gpu-agent --config lab.conf report --dry-run
)";

const char* const kRunHelp = R"(Usage: gpu-agent [--config FILE] run [OPTIONS]

The daemon: a reconcile pass every [agent] interval seconds (60, with +-10%
jitter); while placement or keystone is unreachable, or nova has not created
the compute node yet, retries with capped exponential backoff ([agent]
retry_min .. retry_max). A pass with nothing changed costs one GET and no
writes: the tree GET, or, on a pass where a pool's usages are due ([agent]
usage_refresh, 300 s), that pool's usages GET instead (it checks the pool's
generation; the next pass reads the tree again). SIGHUP reloads the config: the new file is checked as at start-up
(parsed, [placement] complete, pools fitting this host), and a bad, empty or
half-written file is logged with file:line and the old config kept.
SIGTERM/SIGINT cancel the request in flight and exit 0 within a second.
Refused credentials exit 1 (no retry storm); a bad config exits 2; another
gpu-agent holding [agent] state_dir/lock exits 3 (one agent per state
directory; the message names its PID).

Herd control, so a fleet started at once (a rollout, a power-on, Placement
back after an outage) does not hit Placement in step: a random delay before
the first pass ([agent] splay = auto when started by systemd: up to one
interval when state.json holds where the last pass left Placement (a
restart: that pass is one GET), on a first deployment half an interval per
request of the first pass: two intervals when nova's compute_id is readable
(four requests), two and a half without it (five: the lookup by name); none
otherwise and never with --max-passes; a node that started early makes its
second pass after the window), the interval jittered
by +-[agent] jitter, and every retry drawn uniformly from a window that
doubles up to retry_max (the first one too).

After every pass it writes [agent] state_dir/status.json (what `gpu-agent
status` reads) and, when set, the Prometheus metrics file, both atomically
(and serves the metrics on [agent] metrics_listen = 127.0.0.1:PORT if set);
under systemd (Type=notify) it says READY=1 after the first pass, WATCHDOG=1
after each and every half WatchdogSec while it waits (so no splay, interval
or backoff is too long for the watchdog), and a STATUS= line for `systemctl
status gpu-agent`.

Options: those of `report` (--nova-config, -v and the host sources below), and:
  --metrics-file PATH  write Prometheus metrics to PATH after every pass, for
                   node_exporter's textfile collector (overrides [agent]
                   metrics_file; e.g. /var/lib/prometheus/node-exporter/gpu_agent.prom)
  --max-passes N   stop after N passes (tests and benchmarks)
  --interval S     seconds between passes, overriding [agent] interval
                   (tests and benchmarks; down to 0.001)
  --splay S|auto   window of the random start-up delay in seconds, overriding
                   [agent] splay (auto: under systemd one interval, two or
                   two and a half on a first deployment; else 0)
)";

namespace {

// What report and run share: the host sources, --nova-config, -v.
struct ReportArgs {
  Args args;
  HostSources sources;
  std::optional<int> exit;  // set when the command is done (help, or a usage error)
};

ReportArgs parse_report_args(const std::vector<std::string>& argv, std::vector<std::string> values,
                             std::vector<std::string> flags, const char* help, std::ostream& out, std::ostream& err) {
  ReportArgs r;
  values = with_host_options(std::move(values));
  values.push_back("nova-config");
  flags.push_back("verbose");
  auto aliases = kHostSourceAliases;
  aliases["-v"] = "--verbose";
  if (auto e = parse_args(argv, 1, values, flags, aliases, r.args)) {
    r.exit = usage_error(err, argv[0], *e);
    return r;
  }
  if (r.args.help) {
    r.exit = show_help(out, help, true);
    return r;
  }
  auto src = host_sources(r.args);
  if (!src) r.exit = usage_error(err, argv[0], src.error().message);
  else r.sources = *src;
  return r;
}

std::string config_name(const AgentConfig& cfg) {
  return cfg.path.empty() ? std::string("(built-in defaults)") : cfg.path;
}

// The agent's config with the [placement] settings to use (its own or
// nova.conf's), checked as completely as can be without sending anything: a
// config that parses but could not run (no auth_type, a missing cafile) is
// refused here, at start-up and on SIGHUP alike.
Result<AgentConfig> load_report_config(const std::optional<std::string>& config_path, const Args& a) {
  auto cfg = load_config_for(config_path);
  if (!cfg) return cfg.error();
  auto p = effective_placement(*cfg, value(a, "nova-config"));
  if (!p) return make_error(ErrorKind::bad_config, p.error().message);
  cfg->placement = *p;
  if (auto ok = check_placement_settings(cfg->placement); !ok) return ok.error();
  if (const std::string kind = file_type_words(cfg->state_dir); !kind.empty() && kind != "a directory")
    return make_error(ErrorKind::bad_config, config_name(*cfg) + ": [agent] state_dir " + cfg->state_dir + " is " +
                                                 kind + ", not a directory");
  return cfg;
}

// Once (again after GPUs came and went): a host where no GPU is found looks
// the same as a sandbox that hides /sys, so the log says which it read.
void say_when_no_gpu(const PassOutcome& o, const HostSources& src, const AgentConfig& cfg, bool& said, Log& log) {
  if (!o.observed) return;
  int64_t gpus = 0;
  for (const auto& [kind, n] : o.observed->gpus) gpus += n;
  if (gpus > 0) {
    said = false;
    return;
  }
  if (said) return;
  said = true;
  const std::string where = src.fixture ? "the capture " + *src.fixture
                                        : src.sysfs_root.value_or(cfg.sysfs_root) + "/bus/pci/devices";
  log.warning("no GPU found in " + where +
              " (no PCI display, 3D or processing-accelerator device); nothing to report until one appears. "
              "Check `gpu-agent inventory` as root; under systemd, that the unit sees /sys");
}

Log::Level log_level(const Args& a, Log::Level quiet) { return a.flags.count("verbose") ? Log::Level::debug : quiet; }

}  // namespace

int cmd_report(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
               std::ostream& err) {
  ReportArgs r = parse_report_args(argv, {}, {"once", "dry-run"}, kReportHelp, out, err);
  if (r.exit) return *r.exit;
  auto cfg = load_report_config(config_path, r.args);
  if (!cfg) return fail(err, argv[0], cfg.error());
  const bool dry = r.args.flags.count("dry-run") > 0;
  std::unique_ptr<LockFile> lock;  // a dry run writes nothing, so it may run beside the daemon
  if (!dry) {
    auto l = LockFile::acquire(cfg->state_dir);
    if (!l) return fail(err, argv[0], l.error());
    lock = std::move(*l);
  }
  Log log(err, log_level(r.args, Log::Level::info));
  log.debug("config " + config_name(*cfg));
  Reporter reporter(*cfg, r.sources, log);
  const PassOutcome o = reporter.pass(dry, dry ? &out : nullptr);
  if (o.kind == PassOutcome::Kind::ok)
    log.info(o.message + " (" + std::to_string(o.stats.requests) + " request(s), " + std::to_string(o.stats.writes) +
             " write(s))");
  else log.error(o.message);
  return exit_code(o);
}

int cmd_run(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
            std::ostream& err) {
  ReportArgs r = parse_report_args(argv, {"max-passes", "interval", "metrics-file", "splay"}, {}, kRunHelp, out, err);
  if (r.exit) return *r.exit;
  const Args& a = r.args;
  uint64_t max_passes = 0;
  if (auto m = value(a, "max-passes")) {
    auto n = parse_int(*m);
    if (!n || *n < 1) return usage_error(err, argv[0], "--max-passes needs a positive number");
    max_passes = static_cast<uint64_t>(*n);
  }
  std::optional<double> interval;
  if (auto iv = value(a, "interval")) {
    auto v = parse_seconds(*iv, 0.001, 86400);
    if (!v) return usage_error(err, argv[0], "--interval needs seconds from 0.001 to 86400");
    interval = *v;
  }
  std::optional<std::string> splay_option = value(a, "splay");
  std::optional<double> splay_seconds;
  if (splay_option && *splay_option != "auto") {
    auto v = parse_seconds(*splay_option, 0, 86400);
    if (!v) return usage_error(err, argv[0], "--splay needs auto or seconds from 0 to 86400");
    splay_seconds = *v;
  }
  const std::optional<std::string> metrics_option = value(a, "metrics-file");
  if (metrics_option && (metrics_option->empty() || metrics_option->front() != '/'))
    return usage_error(err, argv[0], "--metrics-file needs an absolute path (node_exporter's textfile directory)");
  auto cfg = load_report_config(config_path, a);
  if (!cfg) return fail(err, argv[0], cfg.error());
  // One daemon per state directory, for the life of the process.
  auto lock = LockFile::acquire(cfg->state_dir);
  if (!lock) return fail(err, argv[0], lock.error());
  Log log(err, log_level(a, Log::Level::info));
  log.debug("config " + config_name(*cfg));
  if (interval) cfg->interval = *interval;  // the pass schedule (usage re-reads) follows --interval too
  Reporter reporter(*cfg, r.sources, log);

  // What the daemon shows of itself after every pass (observe.h).
  auto metrics_path = [&](const AgentConfig& c) { return metrics_option.value_or(c.metrics_file); };
  AgentStatus initial;
  initial.version = kAgentVersion;
  initial.pid = static_cast<int64_t>(::getpid());
  initial.config_path = cfg->path;
  initial.nova_version = installed_nova_version();
  initial.interval = interval.value_or(cfg->interval);
  initial.started_at = unix_time_now();
  PassObserver observer(initial, status_file_path(*cfg), metrics_path(*cfg), log);
  if (auto w = watchdog_mismatch(observer.notifier().watchdog_seconds()); !w.empty()) log.warning(w);

  // After blocking the signals: the listener's thread inherits the mask, so
  // SIGTERM and SIGHUP still reach the loop's sigtimedwait.
  block_daemon_signals();
  std::unique_ptr<MetricsServer> server;
  if (!cfg->metrics_listen.empty()) {
    auto where = parse_listen_address(cfg->metrics_listen);
    if (!where) return fail(err, argv[0], where.error());
    auto started = MetricsServer::start(*where);
    if (!started) return fail(err, argv[0], started.error());
    server = std::move(*started);
    observer.serve_with(server.get());
    log.info("serving metrics on http://" + (where->host == "::1" ? "[::1]" : where->host) + ":" +
             std::to_string(server->port()) + "/metrics");
  }
  DaemonHooks hooks;
  hooks.max_passes = max_passes;
  bool said_no_gpu = false;
  // --splay auto means auto even when the config sets seconds.
  const std::optional<double> splay = splay_option ? splay_seconds : cfg->splay;
  // A first deployment: no resume point yet, so the first pass creates the pools.
  const auto state = load_state(cfg->state_dir + "/state.json");
  const bool first_deployment = !state || !state->resume;
  // nova 2023.1+'s compute_id spares the lookup of the compute node by name.
  const bool compute_id = read_compute_id(cfg->nova_compute_id).kind == ComputeId::Kind::found;
  hooks.splay = resolve_splay(splay, interval.value_or(cfg->interval), std::getenv("INVOCATION_ID") != nullptr,
                              max_passes > 0, first_pass_requests(first_deployment, compute_id));
  // WATCHDOG=1 every half WatchdogSec while waiting, so a splay, an interval
  // or a backoff of any length is safe; the watchdog times the passes.
  if (const auto wd = observer.notifier().watchdog_seconds()) {
    hooks.keep_alive = [&] { observer.keep_alive(); };
    hooks.keep_alive_every = *wd / 2;
  }
  hooks.pass = [&] {
    const auto start = std::chrono::steady_clock::now();
    PassOutcome o = reporter.pass(false, nullptr, stop_requested);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string done = "pass done: " + o.message + " (" + std::to_string(o.stats.requests) + " request(s))";
    if (o.kind == PassOutcome::Kind::ok && o.stats.writes > 0) log.info(done);
    else if (o.kind == PassOutcome::Kind::ok) log.debug(done);
    observer.after_pass(o, unix_time_now(), took);
    say_when_no_gpu(o, r.sources, reporter.config(), said_no_gpu, log);
    return o;
  };
  hooks.reload = [&](std::string& error) {
    auto next = load_report_config(config_path, a);
    if (!next) {
      error = next.error().message;
      return false;
    }
    if (next->state_dir != cfg->state_dir) {
      error = config_name(*next) + ": [agent] state_dir changed from " + cfg->state_dir + " to " + next->state_dir +
              "; that takes a restart (systemctl restart gpu-agent)";
      return false;
    }
    // Pools and layouts must fit this host, or the first pass would end the daemon.
    if (auto host = load_host(r.sources, *next); !host) {
      error = host.error().message;
      return false;
    }
    if (interval) next->interval = *interval;
    observer.reconfigure(status_file_path(*next), metrics_path(*next), interval.value_or(next->interval));
    if (next->metrics_listen != reporter.config().metrics_listen)
      log.warning(
          "[agent] metrics_listen changed; the listener moves at the next restart (systemctl restart gpu-agent)");
    reporter.reload(*next);
    return true;
  };
  hooks.interval = [&] { return interval.value_or(reporter.config().interval); };
  hooks.jitter = [&] { return reporter.config().jitter; };
  hooks.retry_min = [&] { return reporter.config().retry_min; };
  hooks.retry_max = [&] { return reporter.config().retry_max; };
  log.info("gpu-agent " + std::string(kAgentVersion) + " running; config " + config_name(*cfg) + ", every " +
           seconds_text(interval.value_or(cfg->interval)) + (interval ? " (--interval)" : ""));
  // Under Type=notify a start-up splay would hold `systemctl start`, the role's
  // restart and an upgrade's postinst for up to the whole window: READY=1 now,
  // with a STATUS= line that says when the first pass comes.
  if (hooks.splay > 0)
    if (auto e = observer.notifier().ready_before_first_pass(
            "first pass within " + std::to_string(static_cast<long>(std::ceil(hooks.splay))) + " s (start-up splay)");
        !e.empty())
      log.warning(e);
  const PassOutcome end = run_daemon(hooks, log);
  observer.stopping(end.message);
  return exit_code(end);
}

}  // namespace gpu_agent
