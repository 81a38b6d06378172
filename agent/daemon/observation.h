#pragma once
// What a report pass saw, as plain data for the metrics, status.json and the
// systemd STATUS= line: the host's GPUs by verdict, its problems by code, and
// per pool what the host offers next to what Placement holds. The pass fills
// it (Reporter::pass); agent_status.h accumulates it across passes.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gpu_agent {

struct PoolObservation {
  std::string key;             // the operator's pool name ("10de_20b2", [pool:NAME])
  std::string resource_class;  // CUSTOM_PGPU_10DE_20B2
  // This host, this pass.
  int64_t assignable = 0;   // GPUs of the pool that can take guests now
  int64_t unavailable = 0;  // GPUs the pool matches that cannot (see `gpu-agent inventory`)
  bool on_host = true;      // false: only in Placement (a pool kept while allocated, or being removed)
  // Placement, as the agent last read or wrote it; unset before the first read.
  std::optional<int64_t> total, reserved, used;
  // When `used` was read from Placement (unix seconds; 0 = never). Inventories
  // are confirmed by every pass (generations), usages only by a full read or
  // the [agent] usage_refresh read (ARCHITECTURE.md, "Metrics and status").
  double used_read_at = 0;
};

struct HostObservation {
  std::string compute_node;
  // GPUs by (mode, verdict): mode passthrough | vgpu | unknown, verdict assignable | not_assignable.
  std::map<std::pair<std::string, std::string>, int64_t> gpus;
  // Problems on the GPUs by (code, blocking).
  std::map<std::pair<std::string, bool>, int64_t> problems;
  int64_t warnings = 0;  // host-wide warnings (not tied to one GPU)
  std::vector<PoolObservation> pools;
};

}  // namespace gpu_agent
