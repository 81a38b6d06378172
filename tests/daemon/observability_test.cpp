// What the daemon shows of itself, without a daemon: the Prometheus text
// (against a golden file; tests/CMakeLists also runs `promtool check metrics`
// on it), status.json and back, the health verdict of `gpu-agent status`, the
// systemd STATUS= line, and sd_notify through a test NOTIFY_SOCKET.
#define BOOST_TEST_MODULE observability
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "agent_status.h"
#include "health.h"
#include "metrics.h"
#include "notify.h"
#include "notify_socket.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent;

namespace {

const std::string kGolden = std::string(GPU_AGENT_TEST_DATA) + "/golden/metrics/gpu_agent.prom";
constexpr double kNow = 1760000000;  // a fixed clock: 2025-10-09 08:53:20 UTC

PoolObservation pool(std::string key, std::string rc, int64_t assignable, int64_t unavailable,
                     std::optional<int64_t> total, std::optional<int64_t> reserved, std::optional<int64_t> used) {
  PoolObservation p;
  p.key = std::move(key);
  p.resource_class = std::move(rc);
  p.assignable = assignable;
  p.unavailable = unavailable;
  p.total = total;
  p.reserved = reserved;
  p.used = used;
  p.used_read_at = used ? kNow - 30 : 0;
  return p;
}

// A daemon 10 minutes up, every 60 s, healthy: 8/8 GPUs in one pool, 3 used.
AgentStatus healthy() {
  AgentStatus s;
  s.version = "0.1.0";
  s.compute_node = "compute-0.example.org";
  s.nova_version = "26.2.2";
  s.config_path = "/etc/gpu-agent/gpu-agent.conf";
  s.pid = 4242;
  s.interval = 60;
  s.started_at = kNow - 600;
  HostObservation h;
  h.compute_node = s.compute_node;
  h.gpus[{"passthrough", "assignable"}] = 8;
  h.pools.push_back(pool("10de_20b2", "CUSTOM_PGPU_10DE_20B2", 8, 0, 8, 0, 3));
  PassOutcome cold{PassOutcome::Kind::ok, "8 change(s) applied", false, {}, h};
  cold.stats.requests = 14;
  cold.stats.writes = 10;
  cold.stats.by_status = {{{"GET", 200}, 4}, {{"POST", 200}, 1}, {{"PUT", 200}, 3}, {{"PUT", 201}, 6}};
  record_pass(s, cold, kNow - 590, 0.2);
  for (int i = 0; i < 9; ++i) {
    PassOutcome quick{PassOutcome::Kind::ok, "no changes", false, {}, h};
    quick.stats.requests = 1;
    quick.stats.quick = true;
    quick.stats.by_status = {{{"GET", 200}, 1}};
    record_pass(s, quick, kNow - 530 + 60 * i, 0.03);
  }
  return s;
}

// Everything the exposition can show: a pool with a GPU gone and one left
// only in Placement, problems, failures, conflicts, keystone, a quote to escape.
AgentStatus eventful() {
  AgentStatus s = healthy();
  s.compute_node = "lab \"b\"\\7";
  HostObservation h = *s.host;
  h.compute_node = s.compute_node;
  h.gpus[{"passthrough", "assignable"}] = 7;
  h.gpus[{"passthrough", "not_assignable"}] = 1;
  h.gpus[{"vgpu", "assignable"}] = 2;
  h.problems[{"driver_not_vfio", true}] = 1;
  h.problems[{"numa_unknown", false}] = 2;
  h.warnings = 1;
  h.pools = {pool("10de_20b2", "CUSTOM_PGPU_10DE_20B2", 7, 1, 8, 1, 8),
             pool("custom_pgpu_10de_2330", "CUSTOM_PGPU_10DE_2330", 0, 0, 2, 2, 2)};
  h.pools[1].on_host = false;
  h.pools.push_back(pool("t4", "CUSTOM_PGPU_T4", 2, 0, std::nullopt, std::nullopt, std::nullopt));
  PassOutcome conflict{PassOutcome::Kind::ok, "2 change(s) applied", false, {}, h};
  conflict.stats.requests = 9;
  conflict.stats.writes = 3;
  conflict.stats.by_status = {{{"GET", 200}, 5}, {{"PUT", 409}, 1}, {{"PUT", 200}, 3}};
  conflict.stats.conflicts = {{"placement.concurrent_update", 1}};
  conflict.stats.token_requests = 2;
  record_pass(s, conflict, kNow - 70, 1.5);
  PassOutcome down{PassOutcome::Kind::retry, "placement: GET http://127.0.0.1:8778/: connection refused", false, {}, h};
  down.stats.requests = 1;
  down.stats.by_status = {{{"GET", 0}, 1}};
  record_pass(s, down, kNow - 10, 40);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_match_the_golden_file) {
  const std::string text = render_metrics(eventful());
  const std::string diff = testing::check_golden(kGolden, text);
  BOOST_TEST(diff.empty(), diff);
}

BOOST_AUTO_TEST_CASE(metrics_follow_the_naming_rules) {
  const std::string text = render_metrics(eventful());
  std::istringstream in(text);
  std::string line, type_of;
  int families = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      ++families;
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      BOOST_TEST(name.rfind("gpu_agent_", 0) == 0u, name);
      const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
      BOOST_TEST((type == "counter") == total, name << " is a " << type);
    } else if (line.rfind("# HELP ", 0) != 0) {
      BOOST_TEST(line.rfind("gpu_agent_", 0) == 0u, line);
    }
  }
  BOOST_TEST(families >= 20);
  BOOST_TEST(text.find("compute_node=\"lab \\\"b\\\"\\\\7\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  BOOST_TEST(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  BOOST_TEST(escape_label_value("plain") == "plain");
}

BOOST_AUTO_TEST_CASE(record_pass_keeps_totals_the_last_success_and_the_last_host) {
  AgentStatus s = eventful();
  BOOST_TEST(s.passes == 12u);
  BOOST_TEST(s.passes_by_result["ok"] == 11u);
  BOOST_TEST(s.passes_by_result["retry"] == 1u);
  BOOST_TEST(s.last->result == "retry");
  BOOST_TEST(s.last_success_at == kNow - 70);
  BOOST_TEST((s.requests[{"GET", 200}]) == 18u);
  BOOST_TEST((s.requests[{"GET", 0}]) == 1u);
  BOOST_TEST(s.conflicts["placement.concurrent_update"] == 1u);
  BOOST_TEST(s.token_requests == 2u);
  // durations: 0.2 (le 0.25), 9 x 0.03 (le 0.05), 1.5 (le 2.5), 40 (le 60)
  BOOST_TEST(s.duration_counts[2] == 9u);
  BOOST_TEST(s.duration_counts[4] == 1u);
  BOOST_TEST(s.duration_counts[7] == 1u);
  BOOST_TEST(s.duration_counts[11] == 1u);
  BOOST_TEST(s.duration_counts[12] == 0u);
  // a pass that could not read the host leaves the last host in place
  PassOutcome blind{PassOutcome::Kind::fatal, "cannot read /sys", true, {}, std::nullopt};
  record_pass(s, blind, kNow, 0.001);
  BOOST_REQUIRE(s.host);
  BOOST_TEST(s.host->pools.size() == 3u);
  BOOST_TEST(s.duration_counts[0] == 1u);
}

BOOST_AUTO_TEST_CASE(status_json_round_trips) {
  const AgentStatus s = eventful();
  auto back = status_from_json(status_to_json(s), "status.json");
  BOOST_REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().message));
  BOOST_TEST(status_to_json(*back) == status_to_json(s));
  BOOST_TEST(back->host->pools[1].on_host == false);
  BOOST_TEST(!back->host->pools[2].total.has_value());

  auto bad = status_from_json("{\"schema_version\":1,\"passes\":\"many\"}", "/x/status.json");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.error().message == "/x/status.json: member 'passes' is not a count");
  BOOST_TEST(!status_from_json("not json", "s"));
  BOOST_TEST(status_from_json("{\"schema_version\":2}", "s").error().message.find("schema_version") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(health_verdicts) {
  struct Row {
    const char* name;
    AgentStatus status;
    double now;
    Health::Level level;
    const char* says;  // in one of the reasons
  };
  AgentStatus fresh = healthy();
  fresh.passes = 0;
  fresh.last.reset();
  AgentStatus never = healthy();
  never.last_success_at = 0;
  never.last->result = "retry";
  never.last->message = "compute node provider 'x' is not in placement yet";
  AgentStatus fatal = healthy();
  fatal.last->result = "fatal";
  fatal.last->config_error = true;
  fatal.last->message = "gpu-agent.conf:3: [pool:a] ...";
  AgentStatus retry = healthy();
  retry.last->result = "retry";
  retry.last->message = "placement: connection refused";
  AgentStatus lost = healthy();
  lost.host->pools[0].assignable = 7;
  lost.host->pools[0].unavailable = 1;
  AgentStatus gone = eventful();
  gone.last->result = "ok";
  const double last = healthy().last->ended_at;
  const std::vector<Row> rows{
      {"healthy", healthy(), last + 5, Health::Level::healthy, ""},
      {"no pass yet", fresh, kNow, Health::Level::failing, "no pass has finished"},
      {"never succeeded", never, last + 5, Health::Level::failing, "no successful pass since the daemon started"},
      {"fatal", fatal, last + 5, Health::Level::failing, "fix the configuration"},
      {"retry after success", retry, last + 5, Health::Level::degraded, "the last pass failed (retry)"},
      {"stale", healthy(), last + 181, Health::Level::degraded, "more than 3 intervals"},
      {"not stale at 3 intervals", healthy(), last + 180, Health::Level::healthy, ""},
      {"GPU not assignable", lost, last + 5, Health::Level::degraded, "1 of 8 GPUs not assignable"},
      {"pool only in placement", gone, kNow, Health::Level::degraded, "no GPU on this host any more"},
  };
  for (const auto& r : rows) {
    const Health h = judge_health(r.status, r.now);
    BOOST_TEST((h.level == r.level), r.name << ": " << level_name(h.level));
    std::string all;
    for (const auto& why : h.reasons) all += why + "\n";
    if (r.level == Health::Level::healthy) BOOST_TEST(h.reasons.empty(), r.name << ": " << all);
    else BOOST_TEST(all.find(r.says) != std::string::npos, r.name << ": " << all);
  }
}

BOOST_AUTO_TEST_CASE(status_text_and_line) {
  const AgentStatus s = healthy();
  BOOST_TEST(status_line(s) == "8/8 GPUs in pool 10de_20b2, 3 used; last pass ok at 08:52:30 UTC (no changes)");
  const std::string text = status_to_text(s, judge_health(s, kNow), kNow, "/var/lib/gpu-agent/status.json");
  BOOST_TEST(text.rfind("gpu-agent: healthy\n", 0) == 0u, text);
  BOOST_TEST(text.find("10de_20b2  CUSTOM_PGPU_10DE_20B2           8            0      8         0     3  30 s ago") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("last pass     50 s ago: ok, no changes (1 request(s), 0 write(s), 30 ms)") != std::string::npos,
             text);
  AgentStatus odd = eventful();
  odd.last->message = "two\nlines";
  BOOST_TEST(status_line(odd).find('\n') == std::string::npos);
  BOOST_TEST(human_duration(0.2) == "0.2 s");
  BOOST_TEST(human_duration(59) == "59 s");
  BOOST_TEST(human_duration(185) == "3 min 5 s");
  BOOST_TEST(human_duration(7440) == "2 h 4 min");
  BOOST_TEST(human_duration(3 * 86400 + 7200) == "3 d 2 h");
}

namespace {

// The test's NOTIFY_SOCKET in this process's environment, for as long as it lives.
struct NotifySocket {
  testing::NotifySocket sock;
  explicit NotifySocket(const std::string& path, bool abstract = false) : sock(path, abstract) {
    ::setenv("NOTIFY_SOCKET", sock.address().c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  std::string receive() { return sock.receive(2).value_or("(nothing)"); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(sd_notify_says_ready_once_then_watchdog_and_status_every_pass) {
  testing::TempDir dir("gpu-agent-notify");
  NotifySocket sock(dir / "notify");
  ::setenv("WATCHDOG_USEC", "300000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  SystemdNotifier n;
  BOOST_TEST(n.enabled());
  BOOST_REQUIRE(n.watchdog_seconds());
  BOOST_TEST(*n.watchdog_seconds() == 300.0);
  BOOST_TEST(n.after_pass("8/8 GPUs in pool 10de_20b2, 0 used; last pass ok") == "");
  BOOST_TEST(sock.receive() == "READY=1\nWATCHDOG=1\nSTATUS=8/8 GPUs in pool 10de_20b2, 0 used; last pass ok");
  BOOST_TEST(n.after_pass("second") == "");
  BOOST_TEST(sock.receive() == "WATCHDOG=1\nSTATUS=second");
  BOOST_TEST(n.stopping("stop signal") == "");
  BOOST_TEST(sock.receive() == "STOPPING=1\nSTATUS=stopping: stop signal");
}

BOOST_AUTO_TEST_CASE(sd_notify_reaches_an_abstract_socket_and_skips_the_watchdog_when_off) {
  NotifySocket sock("gpu-agent-test-" + std::to_string(::getpid()), true);
  SystemdNotifier n;
  BOOST_TEST(!n.watchdog_seconds());
  BOOST_TEST(n.after_pass("first pass failed (retry): placement unreachable") == "");
  BOOST_TEST(sock.receive() == "READY=1\nSTATUS=first pass failed (retry): placement unreachable");
}

BOOST_AUTO_TEST_CASE(sd_notify_says_ready_before_a_start_up_splay_and_not_again) {
  testing::TempDir dir("gpu-agent-notify");
  NotifySocket sock(dir / "notify");
  SystemdNotifier n;
  BOOST_TEST(n.ready_before_first_pass("first pass within 60 s (start-up splay)") == "");
  BOOST_TEST(sock.receive() == "READY=1\nSTATUS=first pass within 60 s (start-up splay)");
  BOOST_TEST(n.after_pass("8/8 GPUs in pool 10de_20b2, 0 used; last pass ok") == "");
  BOOST_TEST(sock.receive() == "STATUS=8/8 GPUs in pool 10de_20b2, 0 used; last pass ok");
}

BOOST_AUTO_TEST_CASE(sd_notify_without_systemd_does_nothing) {
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier n;
  BOOST_TEST(!n.enabled());
  BOOST_TEST(n.after_pass("x") == "");
}

BOOST_AUTO_TEST_CASE(a_watchdog_shorter_than_a_slow_pass_is_named) {
  BOOST_TEST(watchdog_mismatch(std::nullopt) == "");
  BOOST_TEST(watchdog_mismatch(300) == "");
  BOOST_TEST(watchdog_mismatch(120) == "");
  const std::string w = watchdog_mismatch(90);
  BOOST_TEST(w.find("WatchdogSec=90 s leaves less than a slow pass (60 s") == 0u, w);
  BOOST_TEST(w.find("set WatchdogSec=120 or more") != std::string::npos, w);
}

BOOST_AUTO_TEST_CASE(sd_notify_keep_alive_says_watchdog_alone_and_nothing_when_it_is_off) {
  testing::TempDir dir("gpu-agent-notify");
  {
    NotifySocket sock(dir / "notify");
    ::setenv("WATCHDOG_USEC", "20000000", 1);
    SystemdNotifier n;
    BOOST_TEST(n.keep_alive() == "");
    BOOST_TEST(sock.receive() == "WATCHDOG=1");
  }
  NotifySocket sock(dir / "notify");
  SystemdNotifier off;
  BOOST_TEST(off.keep_alive() == "");
  BOOST_TEST(off.after_pass("x") == "");
  BOOST_TEST(sock.receive() == "READY=1\nSTATUS=x");  // nothing came before it
}
