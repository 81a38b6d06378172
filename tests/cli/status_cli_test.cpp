// `gpu-agent status` as a monitoring check runs it: the real binary on
// status.json files written as the daemon writes them, exit 0/1/2, text and
// --json; and the observability options of `run` and the config.
#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include <ctime>
#include <string>
#include <vector>

#include "agent_status.h"
#include "inventory_helpers.h"
#include "run_process.h"
#include "temp_dir.h"
#include "text_file.h"

using namespace gpu_agent;
using namespace gpu_agent::testing;

namespace {

const std::string kBinary = GPU_AGENT_BINARY;

ProcessResult agent(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return run_process(args);
}

// A daemon as it looks `age` seconds after its last pass, which ended `result`.
AgentStatus daemon_status(double age, const std::string& result, int64_t unavailable = 0) {
  const double now = static_cast<double>(std::time(nullptr));
  AgentStatus s;
  s.version = "0.1.0";
  s.pid = 1;
  s.compute_node = "cn-1";
  s.interval = 60;
  s.started_at = now - 3600;
  s.passes = 60;
  s.passes_by_result[result] = 60;
  LastPass l;
  l.ended_at = now - age;
  l.duration = 0.03;
  l.result = result;
  l.message = result == "ok" ? "no changes" : "placement: connection refused";
  s.last = l;
  if (result == "ok") s.last_success_at = l.ended_at;
  HostObservation h;
  PoolObservation p;
  p.key = "10de_20b2";
  p.resource_class = "CUSTOM_PGPU_10DE_20B2";
  p.assignable = 8 - unavailable;
  p.unavailable = unavailable;
  p.total = 8;
  p.reserved = 0;
  p.used = 3;
  p.used_read_at = l.ended_at;
  h.pools.push_back(p);
  s.host = h;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(status_command)

BOOST_AUTO_TEST_CASE(exit_codes_follow_the_health_verdict) {
  TempDir dir("gpu-agent-status");
  struct Row {
    const char* name;
    AgentStatus status;
    int exit;
    const char* says;
  };
  const std::vector<Row> rows{
      {"healthy", daemon_status(5, "ok"), 0, "gpu-agent: healthy"},
      {"a GPU not assignable", daemon_status(5, "ok", 1), 1, "1 of 8 GPUs not assignable"},
      {"stale", daemon_status(400, "ok"), 1, "more than 3 intervals"},
      {"never succeeded", daemon_status(5, "retry"), 2, "no successful pass since the daemon started"},
  };
  for (const auto& r : rows) {
    write_text_file(dir / "status.json", status_to_json(r.status));
    auto res = agent({"status", "--status-file", dir / "status.json"});
    BOOST_TEST(res.exit_code == r.exit, r.name << "\n" << res.out << res.err);
    BOOST_TEST(contains(res.out, r.says), r.name << "\n" << res.out);
    auto js = agent({"status", "--json", "--status-file", dir / "status.json"});
    BOOST_TEST(js.exit_code == r.exit, r.name);
    rapidjson::Document d;
    d.Parse(js.out.c_str());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject(), js.out);
    BOOST_TEST(d["exit_code"].GetInt() == r.exit);
    BOOST_TEST(d["status"]["compute_node"].GetString() == std::string("cn-1"));
  }
  write_text_file(dir / "status.json", status_to_json(daemon_status(5, "ok")));
  auto healthy = agent({"status", "--status-file", dir / "status.json"});
  BOOST_TEST(contains(healthy.out, "10de_20b2  CUSTOM_PGPU_10DE_20B2           8            0      8         0     3"),
             healthy.out);
}

BOOST_AUTO_TEST_CASE(no_status_file_a_corrupt_one_or_a_bad_config_is_failing) {
  TempDir dir("gpu-agent-status");
  write_text_file(dir / "agent.conf", "[agent]\nstate_dir = " + dir.path() + "/state\n");
  auto none = agent({"--config", dir / "agent.conf", "status"});
  BOOST_TEST(none.exit_code == 2);
  BOOST_TEST(contains(none.out, "no status file " + dir.path() + "/state/status.json: the daemon has not finished"),
             none.out);
  auto none_json = agent({"--config", dir / "agent.conf", "status", "--json"});
  BOOST_TEST(none_json.exit_code == 2);
  BOOST_TEST(contains(none_json.out, "\"status\": null"), none_json.out);

  write_text_file(dir / "bad.json", "{\"schema_version\": 1, \"passes\": -1}");
  auto corrupt = agent({"status", "--status-file", dir / "bad.json"});
  BOOST_TEST(corrupt.exit_code == 2);
  BOOST_TEST(contains(corrupt.out, "member 'passes' is not a count"), corrupt.out);

  write_text_file(dir / "broken.conf", "[agent]\ninterval = often\n");
  auto bad = agent({"--config", dir / "broken.conf", "status"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, "interval"), bad.err);

  auto usage = agent({"status", "--frobnicate"});
  BOOST_TEST(usage.exit_code == 2);
  auto help = agent({"help", "status"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(contains(help.out, "1 degraded"));
}

BOOST_AUTO_TEST_CASE(metrics_file_must_be_an_absolute_path) {
  TempDir dir("gpu-agent-status");
  auto opt = agent({"run", "--metrics-file", "gpu_agent.prom", "--fixture", "x"});
  BOOST_TEST(opt.exit_code == 2);
  BOOST_TEST(contains(opt.err, "--metrics-file needs an absolute path"), opt.err);
  write_text_file(dir / "agent.conf", "[agent]\nmetrics_file = gpu_agent.prom\n");
  auto cfg = agent({"--config", dir / "agent.conf", "run", "--max-passes", "1"});
  BOOST_TEST(cfg.exit_code == 2);
  BOOST_TEST(contains(cfg.err, "metrics_file"), cfg.err);
  BOOST_TEST(contains(cfg.err, "must be an absolute path"), cfg.err);
  write_text_file(dir / "agent.conf", "[agent]\nusage_refresh = -1\n");
  auto refresh = agent({"--config", dir / "agent.conf", "run", "--max-passes", "1"});
  BOOST_TEST(refresh.exit_code == 2);
  BOOST_TEST(contains(refresh.err, "usage_refresh"), refresh.err);
}

BOOST_AUTO_TEST_SUITE_END()
