#pragma once
// Is the daemon healthy? The decision behind `gpu-agent status` and its exit
// code (0 healthy, 1 degraded, 2 failing: a Nagios/Icinga check), made from
// status.json and the clock only. Pure.
//
// failing:  no pass finished yet; no successful pass since the daemon started;
//           the last pass was fatal (credentials refused, a config error).
// degraded: the last pass is older than 3 intervals (daemon stopped or hung);
//           the last success is older than 3 intervals (passes keep failing);
//           the last pass failed but an earlier one succeeded;
//           some GPUs of a pool are not assignable; a pool is in Placement but
//           no longer on this host.
#include <string>
#include <vector>

#include "agent_status.h"

namespace gpu_agent {

struct Health {
  enum class Level { healthy = 0, degraded = 1, failing = 2 } level = Level::healthy;
  std::vector<std::string> reasons;  // one line each, with what to do
};

const char* level_name(Health::Level l);  // healthy | degraded | failing

// How many intervals without a pass or a success make the daemon degraded.
inline constexpr double kStaleIntervals = 3;

Health judge_health(const AgentStatus& s, double now);

// For a person: the verdict and why, the daemon, the last pass, the pools, the problems.
std::string status_to_text(const AgentStatus& s, const Health& h, double now, const std::string& status_path);
// For tools: {"health", "reasons", "checked_at", "status": <status.json>}.
std::string health_to_json(const AgentStatus* s, const Health& h, double now, const std::string& status_path);

// "42 s", "3 min 5 s", "2 h 4 min", "3 d 2 h".
std::string human_duration(double seconds);

}  // namespace gpu_agent
