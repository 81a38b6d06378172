#pragma once
// The daemon's state as Prometheus metrics, in the text exposition format
// (version 0.0.4) that node_exporter's textfile collector reads: one HELP and
// one TYPE line per family, names with the gpu_agent_ prefix and base units
// (_seconds), counters ending in _total, label values escaped. Pure: the
// state in, the text out (tests compare it with a golden file and run
// `promtool check metrics` on it). README.md, "Metrics", lists the families.
#include <string>

#include "agent_status.h"

namespace gpu_agent {

std::string render_metrics(const AgentStatus& s);

// A label value as the exposition format wants it: \ " and newline escaped.
std::string escape_label_value(const std::string& v);

}  // namespace gpu_agent
