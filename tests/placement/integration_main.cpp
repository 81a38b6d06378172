// Integration tests: a real Placement (Debian python3-placement, SQLite,
// noauth2) on 127.0.0.1, plus scripted loopback servers for failure modes.
#define BOOST_TEST_MODULE placement_integration
#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "lab.h"

namespace lab {
namespace {

std::string g_state_dir;
std::string g_url;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

ScriptResult placement_script(const std::string& args, const std::string& env) {
  const std::string cmd = (env.empty() ? "" : env + " ") + PLACEMENT_SERVER_SCRIPT + " " + args + " 2>&1";
  ScriptResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string& placement_url() { return g_url; }
const std::string& state_dir() { return g_state_dir; }

std::string placement_log() {
  std::ifstream in(g_state_dir + "/placement.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string new_uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto a = rng(), b = rng();
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFF),
                static_cast<unsigned>(b >> 52) & 0xFFF, static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return out;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::unique_ptr<gpu_agent::placement::PlacementClient> client(const std::string& token,
                                                              gpu_agent::http::Options options,
                                                              const std::string& url) {
  auto c = gpu_agent::placement::PlacementClient::create(url, std::move(options),
                                                         std::make_shared<gpu_agent::placement::StaticToken>(token));
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(*c);
}

// Starts Placement once for the whole executable and stops it at the end,
// whatever the tests did. Should this process die without running the
// destructor, the script's watcher (PLACEMENT_SERVER_WATCH_PID) stops the
// server within a second.
struct PlacementServer {
  PlacementServer() {
    // Test servers write to sockets the client may already have closed.
    ::signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/gpu-agent-placement-it-XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    g_state_dir = dir;
    ::setenv("PLACEMENT_SERVER_WATCH_PID", std::to_string(::getpid()).c_str(), 1);
    const auto start = std::chrono::steady_clock::now();
    const auto r = placement_script("start " + g_state_dir + " 0");
    ::unsetenv("PLACEMENT_SERVER_WATCH_PID");
    if (r.status != 0) throw std::runtime_error("placement-server.sh start failed:\n" + r.output);
    g_url = trim(r.output);
    if (g_url.rfind("http://127.0.0.1:", 0) != 0) throw std::runtime_error("unexpected URL: " + r.output);
    BOOST_TEST_MESSAGE("placement at " << g_url << " (started in " << seconds_since(start) << " s, state "
                                       << g_state_dir << ")");
  }
  ~PlacementServer() {
    placement_script("stop " + g_state_dir);
    namespace ut = boost::unit_test;
    const bool passed = ut::results_collector.results(ut::framework::master_test_suite().p_id).passed();
    if (passed) {
      std::error_code ec;
      std::filesystem::remove_all(g_state_dir, ec);
    } else {
      std::cerr << "placement state and log kept in " << g_state_dir << "\n";
    }
  }
};

BOOST_TEST_GLOBAL_FIXTURE(PlacementServer);

}  // namespace lab
