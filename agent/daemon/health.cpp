#include "health.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "json.h"
#include "table.h"

namespace gpu_agent {

const char* level_name(Health::Level l) {
  switch (l) {
    case Health::Level::healthy: return "healthy";
    case Health::Level::degraded: return "degraded";
    case Health::Level::failing: return "failing";
  }
  return "failing";
}

std::string human_duration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 9.95 && std::abs(seconds - std::round(seconds)) >= 0.05) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    return buf;
  }
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min" + (s % 60 ? " " + std::to_string(s % 60) + " s" : "");
  if (s < 86400)
    return std::to_string(s / 3600) + " h" + (s % 3600 / 60 ? " " + std::to_string(s % 3600 / 60) + " min" : "");
  return std::to_string(s / 86400) + " d" + (s % 86400 / 3600 ? " " + std::to_string(s % 86400 / 3600) + " h" : "");
}

Health judge_health(const AgentStatus& s, double now) {
  Health h;
  auto worse = [&](Health::Level l, std::string why) {
    if (static_cast<int>(l) > static_cast<int>(h.level)) h.level = l;
    h.reasons.push_back(std::move(why));
  };
  const double stale = kStaleIntervals * (s.interval > 0 ? s.interval : 60);
  if (!s.last) {
    worse(Health::Level::failing, "no pass has finished since the daemon started " +
                                      human_duration(now - s.started_at) +
                                      " ago; its log says what it is waiting for (journalctl -u gpu-agent)");
    return h;
  }
  const LastPass& l = *s.last;
  if (l.result == "fatal")
    worse(Health::Level::failing, std::string("the last pass failed and the daemon stopped: ") + l.message +
                                      (l.config_error ? " (fix the configuration, then systemctl restart gpu-agent)"
                                                      : " (fix the [placement] credentials, then systemctl restart "
                                                        "gpu-agent)"));
  else if (s.last_success_at <= 0)
    worse(Health::Level::failing, "no successful pass since the daemon started " + human_duration(now - s.started_at) +
                                      " ago; the last one: " + l.message);
  else if (l.result != "ok") worse(Health::Level::degraded, "the last pass failed (" + l.result + "): " + l.message);
  if (now - l.ended_at > stale)
    worse(Health::Level::degraded, "the last pass ended " + human_duration(now - l.ended_at) + " ago, more than " +
                                       std::to_string(static_cast<int>(kStaleIntervals)) + " intervals of " +
                                       human_duration(s.interval) +
                                       ": is the daemon running? (systemctl status gpu-agent)");
  else if (s.last_success_at > 0 && now - s.last_success_at > stale)
    worse(Health::Level::degraded, "no successful pass for " + human_duration(now - s.last_success_at) +
                                       ", more than " + std::to_string(static_cast<int>(kStaleIntervals)) +
                                       " intervals; Placement has this node's pools as they were then");
  if (s.host) {
    for (const auto& p : s.host->pools) {
      if (p.unavailable > 0)
        worse(Health::Level::degraded, "pool " + p.key + ": " + std::to_string(p.unavailable) + " of " +
                                           std::to_string(p.assignable + p.unavailable) +
                                           " GPUs not assignable (gpu-agent inventory says why, gpu-agent "
                                           "doctor how to fix it)");
      if (!p.on_host)
        worse(Health::Level::degraded, "pool " + p.key + " (" + p.resource_class +
                                           ") is in Placement but has no GPU on this host any more; it stays "
                                           "while allocated (reserved = total)");
    }
  }
  return h;
}

namespace {

std::string count_or_dash(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

}  // namespace

std::string status_to_text(const AgentStatus& s, const Health& h, double now, const std::string& status_path) {
  std::ostringstream out;
  out << "gpu-agent: " << level_name(h.level) << "\n";
  for (const auto& r : h.reasons) out << "  - " << r << "\n";
  out << "\n";
  TextTable about({{""}, {""}}, "  ");
  about.add_row({"compute node", s.compute_node.empty() ? "(not known yet)" : s.compute_node});
  about.add_row({"daemon", "pid " + std::to_string(s.pid) + ", gpu-agent " + s.version + ", up " +
                               human_duration(now - s.started_at) + ", every " + human_duration(s.interval)});
  about.add_row({"config", s.config_path.empty() ? "(built-in defaults)" : s.config_path});
  if (s.last) {
    const LastPass& l = *s.last;
    about.add_row({"last pass", human_duration(now - l.ended_at) + " ago: " + l.result +
                                    (l.message.empty() ? "" : ", " + l.message) + " (" + std::to_string(l.requests) +
                                    " request(s), " + std::to_string(l.writes) + " write(s), " +
                                    std::to_string(static_cast<long long>(std::llround(l.duration * 1000))) + " ms)"});
  }
  about.add_row({"last success", s.last_success_at > 0 ? human_duration(now - s.last_success_at) + " ago" : "none"});
  std::string passes = std::to_string(s.passes);
  if (!s.passes_by_result.empty()) {
    passes += " (";
    bool first = true;
    for (const auto& [r, n] : s.passes_by_result) {
      passes += (first ? "" : ", ") + std::to_string(n) + " " + r;
      first = false;
    }
    passes += ")";
  }
  about.add_row({"passes", passes});
  about.add_row({"status file", status_path});
  out << about.render();
  if (s.host && !s.host->pools.empty()) {
    out << "\nPools (host | Placement):\n";
    TextTable t({{"POOL"},
                 {"RESOURCE CLASS"},
                 {"ASSIGNABLE", 0, TextTable::Align::right},
                 {"UNAVAILABLE", 0, TextTable::Align::right},
                 {"TOTAL", 0, TextTable::Align::right},
                 {"RESERVED", 0, TextTable::Align::right},
                 {"USED", 0, TextTable::Align::right},
                 {"USED READ"}},
                "  ");
    for (const auto& p : s.host->pools)
      t.add_row({p.key, p.resource_class, std::to_string(p.assignable), std::to_string(p.unavailable),
                 count_or_dash(p.total), count_or_dash(p.reserved), count_or_dash(p.used),
                 p.used_read_at > 0 ? human_duration(now - p.used_read_at) + " ago" : "-"});
    out << t.render();
  }
  if (s.host && !s.host->problems.empty()) {
    out << "\nProblems on the GPUs (gpu-agent doctor has the fixes):\n";
    TextTable t({{"CODE"}, {"GPUS", 0, TextTable::Align::right}, {"BLOCKING"}}, "  ");
    for (const auto& [k, n] : s.host->problems) t.add_row({k.first, std::to_string(n), k.second ? "yes" : "no"});
    out << t.render();
  }
  return out.str();
}

std::string health_to_json(const AgentStatus* s, const Health& h, double now, const std::string& status_path) {
  JsonWriter w(JsonStyle::pretty);
  w.begin_object();
  w.key("health").string(level_name(h.level));
  w.key("exit_code").integer(static_cast<int>(h.level));
  w.key("reasons").strings(h.reasons);
  w.key("checked_at").number(now);
  w.key("status_file").string(status_path);
  w.key("status");
  if (s) write_status(w, *s);
  else w.null();
  w.end_object();
  return w.finish();
}

}  // namespace gpu_agent
