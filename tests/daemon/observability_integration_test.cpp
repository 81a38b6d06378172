// The daemon as an operator watches it, against the REAL Placement of this
// suite: `gpu-agent run` on a fixture host writes a metrics file that
// `promtool check metrics` accepts and whose pool values are Placement's
// (after an allocation is made and after it is deleted, which moves no
// generation); a real node_exporter serves that file on loopback; systemd's
// notifications reach a test NOTIFY_SOCKET; `gpu-agent status` reads the
// daemon's status.json.
#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gpu_agent_version.h"
#include "notify_socket.h"
#include "report.h"
#include "report_env.h"
#include "uuid5.h"

using namespace gpu_agent;
using gpu_agent::testing::NotifySocket;

namespace {

const std::string kRC = "CUSTOM_PGPU_10DE_20B2";

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_until(const std::function<bool()>& ok, double seconds) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ok();
}

// The value of the sample `series` (name and labels exactly as written) in exposition TEXT.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
  return std::nullopt;
}

// A child process with its own pid, stopped (SIGTERM, then SIGKILL) when the test ends.
struct Child {
  pid_t pid = -1;
  Child(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& env = {}) {
    pid = ::fork();
    if (pid == 0) {
      if (!::freopen(log.c_str(), "w", stderr)) ::_exit(126);
      ::dup2(STDERR_FILENO, STDOUT_FILENO);
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  // Sends SIGTERM and returns the exit status (-1 when it had to be killed).
  int stop() {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    pid = -1;
    return -1;
  }
  ~Child() { stop(); }
};

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_follow_placement_pass_promtool_and_node_exporter_serves_them) {
  const std::string host = env::unique("metrics");
  const std::string root = env::make_compute_node(host);
  const std::string pool = uuid5(placement::pool_provider_name(host, kRC));
  const std::string dir = env::work_dir() + "/" + host;
  env::run("mkdir -p " + dir + "/textfile");
  const std::string metrics = dir + "/textfile/gpu_agent.prom";
  // usage_refresh 1 s: a deleted allocation (which moves no generation) shows within a second or two
  const std::string conf = env::config_file(env::placement_url(), "usage_refresh = 1");
  NotifySocket notify(dir + "/notify");

  Child daemon({env::kAgentBinary, "--config", conf, "run", "--interval", "0.3", "--metrics-file", metrics, "--fixture",
                env::fixture("a100-8x-passthrough"), "--hostname", host},
               dir + "/agent.log", {"NOTIFY_SOCKET=" + notify.address(), "WATCHDOG_USEC=30000000"});
  const std::string capacity = "gpu_agent_pool_capacity_gpus{pool=\"10de_20b2\",resource_class=\"" + kRC + "\"}";
  const std::string used = "gpu_agent_pool_used_gpus{pool=\"10de_20b2\",resource_class=\"" + kRC + "\"}";
  BOOST_TEST_REQUIRE(wait_until([&] { return sample(slurp(metrics), capacity) == 8.0; }, 20),
                     slurp(dir + "/agent.log"));

  // Prometheus' own checker accepts the file, lints included.
  int st = 0;
  std::string out = env::run("promtool check metrics < " + metrics, &st);
  BOOST_TEST(st == 0, out);
  BOOST_TEST(out.empty(), out);

  // The values are Placement's.
  auto placement_used = [&] {
    auto u = env::client()->get_usages(pool);
    BOOST_REQUIRE(u);
    return static_cast<double>(u->usages[kRC]);
  };
  auto inv = env::read_tree(root).inventory(pool);
  std::string text = slurp(metrics);
  BOOST_TEST(*sample(text, capacity) == static_cast<double>(inv[kRC].total));
  BOOST_TEST(*sample(text, "gpu_agent_pool_reserved_gpus{pool=\"10de_20b2\",resource_class=\"" + kRC + "\"}") ==
             static_cast<double>(inv[kRC].reserved));
  BOOST_TEST(*sample(text, used) == 0.0);
  BOOST_TEST(*sample(text, "gpu_agent_pool_assignable_gpus{pool=\"10de_20b2\",resource_class=\"" + kRC + "\"}") == 8.0);
  BOOST_TEST(*sample(text, "gpu_agent_gpus{mode=\"passthrough\",verdict=\"assignable\"}") == 8.0);
  BOOST_TEST(*sample(text, "gpu_agent_last_pass_result{result=\"ok\"}") == 1.0);
  BOOST_TEST(sample(text, "gpu_agent_placement_requests_total{method=\"POST\",code=\"200\"}").value_or(0) >= 1.0);
  BOOST_TEST(contains(text, "gpu_agent_info{version=\"" GPU_AGENT_VERSION "\",compute_node=\"" + host + "\""), text);

  // A server is booted: 3 GPUs allocated. The allocation moves the pool's generation, so the next pass reads it.
  const std::string consumer = env::allocate(pool, kRC, 3);
  BOOST_TEST(wait_until([&] { return sample(slurp(metrics), used) == 3.0; }, 10), slurp(metrics));
  BOOST_TEST(placement_used() == 3.0);
  // The server is deleted: no generation moves; the usage read every usage_refresh sees it.
  BOOST_REQUIRE(env::http_status("DELETE", "/allocations/" + consumer) == 204);
  BOOST_TEST(wait_until([&] { return sample(slurp(metrics), used) == 0.0; }, 10), slurp(metrics));
  BOOST_TEST(placement_used() == 0.0);
  const std::string again = env::allocate(pool, kRC, 5);
  BOOST_TEST(wait_until([&] { return sample(slurp(metrics), used) == 5.0; }, 10), slurp(metrics));
  out = env::run("promtool check metrics < " + metrics, &st);
  BOOST_TEST(st == 0, out);

  // A real node_exporter with the textfile collector serves the same values.
  const int port = free_port();
  Child exporter({"/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:" + std::to_string(port),
                  "--collector.disable-defaults", "--collector.textfile",
                  "--collector.textfile.directory=" + dir + "/textfile"},
                 dir + "/node_exporter.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  std::string scraped;
  BOOST_TEST_REQUIRE(wait_until(
                         [&] {
                           scraped = env::run("curl -sf " + url);
                           return contains(scraped, "gpu_agent_pool_used_gpus");
                         },
                         15),
                     slurp(dir + "/node_exporter.log"));
  BOOST_TEST(sample(scraped, "node_textfile_scrape_error").value_or(-1) == 0.0, scraped);
  BOOST_TEST(sample(scraped, used).value_or(-1) == placement_used(), scraped);
  BOOST_TEST(sample(scraped, capacity).value_or(-1) == 8.0, scraped);
  BOOST_TEST(contains(scraped, "node_textfile_mtime_seconds{file=\"" + metrics + "\"}"), scraped);
  exporter.stop();  // node_exporter ends on SIGTERM by the signal itself

  // systemd was told: READY=1 once, after the first pass, with the pool in STATUS=; WATCHDOG=1 every pass.
  const std::vector<std::string> msgs = notify.drain();
  BOOST_REQUIRE(msgs.size() >= 3u);
  BOOST_TEST(msgs[0].rfind("READY=1\nWATCHDOG=1\nSTATUS=8/8 GPUs in pool 10de_20b2, 0 used; last pass ok at ", 0) == 0u,
             msgs[0]);
  int ready = 0;
  for (const auto& m : msgs) {
    ready += contains(m, "READY=1");
    BOOST_TEST(contains(m, "WATCHDOG=1\nSTATUS="), m);
  }
  BOOST_TEST(ready == 1);
  BOOST_TEST(contains(msgs.back(), "8/8 GPUs in pool 10de_20b2, 5 used"), msgs.back());

  // `gpu-agent status` on the daemon's status.json: healthy, the pool as Placement has it.
  out = env::run(std::string(env::kAgentBinary) + " --config " + conf + " status", &st);
  BOOST_TEST(st == 0, out);
  BOOST_TEST(contains(out, "gpu-agent: healthy"), out);
  BOOST_TEST(contains(out, "10de_20b2  " + kRC + "           8            0      8         0     5"), out);

  BOOST_TEST(daemon.stop() == 0);
  BOOST_TEST(contains(notify.drain().back(), "STOPPING=1"));
  BOOST_TEST(env::http_status("DELETE", "/allocations/" + again) == 204);
}

// A start-up splay longer than WatchdogSec under systemd's watchdog: the
// daemon says READY=1 at once (with when the first pass comes) and WATCHDOG=1
// every half watchdog timeout while it waits, so systemd never sees it silent
// for a whole timeout; the first pass then reports as always.
BOOST_AUTO_TEST_CASE(a_splay_longer_than_the_watchdog_keeps_it_fed_through_sd_notify) {
  const std::string host = env::unique("splay-watchdog");
  env::make_compute_node(host);
  const std::string dir = env::work_dir() + "/" + host;
  env::run("mkdir -p " + dir);
  const std::string conf = env::config_file(env::placement_url());
  const double watchdog = 1.0;  // WATCHDOG_USEC: keep-alives every 0.5 s
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  // The splay is drawn from [0, 6 s]; a draw under 1.5 s (a quarter of them)
  // is too short to show anything, so the daemon is started again (a new draw).
  for (int attempt = 1; attempt <= 10; ++attempt) {
    NotifySocket notify(dir + "/notify");
    Child daemon({env::kAgentBinary, "--config", conf, "run", "--splay", "6", "--interval", "60", "--fixture",
                  env::fixture("a100-8x-passthrough"), "--hostname", host},
                 dir + "/agent.log",
                 {"NOTIFY_SOCKET=" + notify.address(), "WATCHDOG_USEC=" + std::to_string(std::lround(watchdog * 1e6))});
    const auto ready = notify.receive(10);
    BOOST_REQUIRE_MESSAGE(ready, slurp(dir + "/agent.log"));
    BOOST_TEST(*ready == "READY=1\nSTATUS=first pass within 6 s (start-up splay)");
    // The keep-alives until the first pass's message, and the longest time between them.
    std::vector<std::string> keep_alives;
    double longest_silence = 0;
    std::optional<std::string> pass;
    Clock::time_point last = Clock::now();
    const Clock::time_point start = last;
    while (!pass && seconds_since(start) < 15) {
      auto m = notify.receive(15);
      if (!m) break;
      if (*m != "WATCHDOG=1") {  // the pass's own (its time is the pass's, not the wait's)
        pass = m;
        break;
      }
      keep_alives.push_back(*m);
      longest_silence = std::max(longest_silence, seconds_since(last));
      last = Clock::now();
    }
    BOOST_REQUIRE_MESSAGE(pass, slurp(dir + "/agent.log"));
    const double took = seconds_since(start);
    BOOST_TEST(pass->rfind("WATCHDOG=1\nSTATUS=8/8 GPUs in pool 10de_20b2, 0 used; last pass ok at ", 0) == 0u, *pass);
    BOOST_TEST(daemon.stop() == 0);
    BOOST_TEST(contains(slurp(dir + "/agent.log"), "start-up splay: first pass in "), slurp(dir + "/agent.log"));
    BOOST_TEST_MESSAGE("first pass after " << took << " s, " << keep_alives.size() << " keep-alives, longest silence "
                                           << longest_silence << " s (attempt " << attempt << ")");
    if (keep_alives.size() < 3) continue;  // a splay under 1.5 s: too short to show anything
    // At least 1.5 s (three keep-alives) of splay, longer than the watchdog's 1 s, and systemd never
    // waited a whole timeout for a WATCHDOG=1 (they come every 0.5 s).
    BOOST_TEST(longest_silence < watchdog, longest_silence << " s without WATCHDOG=1 during the splay");
    return;
  }
  BOOST_FAIL("ten splays in a row were shorter than 1.5 s (of a window of 6 s)");
}

// Placement down: the passes fail, the metrics and the status say so, systemd hears READY=1 with why.
BOOST_AUTO_TEST_CASE(metrics_and_status_when_placement_is_unreachable) {
  const std::string host = env::unique("metrics-down");
  const std::string dir = env::work_dir() + "/" + host;
  env::run("mkdir -p " + dir);
  const int port = free_port();  // nothing listens there
  const std::string conf = env::config_file("http://127.0.0.1:" + std::to_string(port));
  const std::string metrics = dir + "/gpu_agent.prom";
  NotifySocket notify(dir + "/notify");
  Child daemon({env::kAgentBinary, "--config", conf, "run", "--metrics-file", metrics, "--fixture",
                env::fixture("a100-8x-passthrough"), "--hostname", host},
               dir + "/agent.log", {"NOTIFY_SOCKET=" + notify.address()});
  BOOST_TEST_REQUIRE(
      wait_until([&] { return sample(slurp(metrics), "gpu_agent_passes_total{result=\"retry\"}") >= 2.0; }, 20),
      slurp(dir + "/agent.log"));
  const std::string text = slurp(metrics);
  BOOST_TEST(sample(text, "gpu_agent_last_pass_result{result=\"retry\"}").value_or(-1) == 1.0, text);
  BOOST_TEST(sample(text, "gpu_agent_last_success_timestamp_seconds").value_or(-1) == 0.0, text);
  BOOST_TEST(
      sample(text, "gpu_agent_pool_assignable_gpus{pool=\"10de_20b2\",resource_class=\"" + kRC + "\"}").value_or(-1) ==
          8.0,
      text);
  BOOST_TEST(!sample(text, "gpu_agent_pool_capacity_gpus{pool=\"10de_20b2\",resource_class=\"" + kRC + "\"}"), text);
  int st = 0;
  std::string out = env::run("promtool check metrics < " + metrics, &st);
  BOOST_TEST(st == 0, out);
  out = env::run(std::string(env::kAgentBinary) + " --config " + conf + " status", &st);
  BOOST_TEST(st == 2, out);
  BOOST_TEST(contains(out, "no successful pass since the daemon started"), out);
  const auto msgs = notify.drain();
  BOOST_REQUIRE(!msgs.empty());
  BOOST_TEST(contains(msgs[0], "READY=1\nSTATUS=8/8 GPUs in pool 10de_20b2; last pass retry at "), msgs[0]);
  BOOST_TEST(contains(msgs[0], "127.0.0.1:" + std::to_string(port)), msgs[0]);
  BOOST_TEST(daemon.stop() == 0);
}

// [agent] metrics_listen: the same metrics over HTTP on loopback, and nothing else there.
BOOST_AUTO_TEST_CASE(metrics_listen_serves_the_metrics_on_loopback) {
  const std::string host = env::unique("metrics-listen");
  env::make_compute_node(host);
  const std::string dir = env::work_dir() + "/" + host;
  env::run("mkdir -p " + dir);
  const int port = free_port();
  const std::string conf = env::config_file(env::placement_url(), "metrics_listen = 127.0.0.1:" + std::to_string(port));
  Child daemon({env::kAgentBinary, "--config", conf, "run", "--interval", "0.3", "--fixture",
                env::fixture("a100-8x-passthrough"), "--hostname", host},
               dir + "/agent.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  std::string served;
  BOOST_TEST_REQUIRE(wait_until(
                         [&] {
                           served = env::run("curl -sf " + url + "/metrics");
                           return sample(served, "gpu_agent_pool_capacity_gpus{pool=\"10de_20b2\",resource_class=\"" +
                                                     kRC + "\"}") == 8.0;
                         },
                         20),
                     served << slurp(dir + "/agent.log"));
  const std::string file = dir + "/scraped.prom";
  std::ofstream(file) << served;
  int st = 0;
  std::string out = env::run("promtool check metrics < " + file, &st);
  BOOST_TEST(st == 0, out);
  BOOST_TEST(env::run("curl -s -o /dev/null -w '%{http_code} %{content_type}' " + url + "/metrics") ==
             "200 text/plain; version=0.0.4; charset=utf-8");
  BOOST_TEST(env::run("curl -s -o /dev/null -w '%{http_code}' " + url + "/") == "404");
  BOOST_TEST(env::run("curl -s -o /dev/null -w '%{http_code}' -X POST " + url + "/metrics") == "405");
  BOOST_TEST(contains(slurp(dir + "/agent.log"), "serving metrics on " + url + "/metrics"));
  // a second agent on the same port (its own state_dir, else the lock stops it first): exit 1
  // naming the port and the fix
  const std::string conf2 = env::config_file(env::placement_url(),
                                             "metrics_listen = 127.0.0.1:" + std::to_string(port));
  out = env::run(std::string(env::kAgentBinary) + " --config " + conf2 + " run --max-passes 1 --fixture " +
                     env::fixture("a100-8x-passthrough") + " --hostname " + host,
                 &st);
  BOOST_TEST(st == 1, out);
  BOOST_TEST(contains(out, "cannot listen on 127.0.0.1:" + std::to_string(port) + " ([agent] metrics_listen)"), out);
  BOOST_TEST(contains(out, "pick a free one"), out);
  const auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST(daemon.stop() == 0);  // SIGTERM reaches the loop, not the listener's thread
  BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 3.0);
}
