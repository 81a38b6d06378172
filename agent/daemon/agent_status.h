#pragma once
// The daemon's state for the people and tools watching it: what the last pass
// did and saw, when the last successful one was, and running totals since the
// process started. The daemon keeps one, folds every PassOutcome into it
// (record_pass), and writes it after every pass as status.json in state_dir
// (read back by `gpu-agent status`) and as Prometheus metrics (metrics.h).
// Plain data and pure functions: the rendering is tested without a daemon.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "daemon.h"
#include "observation.h"
#include "result.h"

namespace gpu_agent {

// Upper bounds (seconds) of the pass duration histogram's buckets (+Inf is implied).
inline constexpr std::array<double, 12> kPassDurationBuckets{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

struct LastPass {
  double ended_at = 0;  // unix seconds
  double duration = 0;  // seconds
  std::string result;   // ok | retry | fatal | stopped (result_name)
  std::string message;
  bool config_error = false;
  uint64_t requests = 0, writes = 0;
  bool quick = false;  // the one-GET steady state
};

struct AgentStatus {
  // Who: the info metric and the status header.
  std::string version;
  std::string compute_node;
  std::string nova_version;  // nova's installed version, when the CLI found one
  std::string config_path;   // "" = built-in defaults
  int64_t pid = 0;
  double interval = 60;   // seconds between passes, as configured
  double started_at = 0;  // unix seconds
  // Passes.
  uint64_t passes = 0;
  std::map<std::string, uint64_t> passes_by_result;
  std::optional<LastPass> last;
  double last_success_at = 0;  // unix seconds of the last ok pass; 0 = none yet
  // Pass durations since start: counts per bucket of kPassDurationBuckets (not cumulative), sum.
  std::array<uint64_t, kPassDurationBuckets.size() + 1> duration_counts{};
  double duration_sum = 0;
  // The host and its pools, from the last pass that could read the host.
  std::optional<HostObservation> host;
  // Totals since start: placement requests by (method, status; 0 = no answer),
  // 409 answers by placement's error code, tokens asked of keystone.
  std::map<std::pair<std::string, int>, uint64_t> requests;
  std::map<std::string, uint64_t> conflicts;
  uint64_t token_requests = 0;
};

const char* result_name(PassOutcome::Kind k);

// Folds one pass in: the last pass, the totals, the host (when the pass saw it).
void record_pass(AgentStatus& s, const PassOutcome& o, double ended_at, double duration);

// status.json (schema_version 1; fields are only added) and back.
std::string status_to_json(const AgentStatus& s);
class JsonWriter;
void write_status(JsonWriter& w, const AgentStatus& s);  // the same object, inside another document
Result<AgentStatus> status_from_json(const std::string& text, const std::string& origin);

// The systemd STATUS= line: "8/8 GPUs in pool 10de_20b2, 3 used; last pass ok at 14:02:11 UTC (no changes)".
std::string status_line(const AgentStatus& s);

// "14:02:11 UTC" for unix seconds.
std::string utc_clock(double unix_seconds);

}  // namespace gpu_agent
