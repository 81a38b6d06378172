#include "metrics.h"

#include <charconv>
#include <cmath>
#include <map>
#include <vector>

namespace gpu_agent {

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// One metric family at a time: HELP and TYPE, then its samples. A family
// without samples is left out altogether.
class Exposition {
 public:
  void family(const std::string& name, const char* type, const std::string& help) {
    header_ = "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    name_ = name;
  }
  void sample(const Labels& labels, double v, const std::string& suffix = "") {
    out_ += header_;
    header_.clear();
    out_ += name_ + suffix;
    if (!labels.empty()) {
      out_ += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ",";
        out_ += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
      }
      out_ += "}";
    }
    out_ += " " + number(v) + "\n";
  }
  void sample(double v) { sample({}, v); }
  std::string text() && { return std::move(out_); }

 private:
  std::string out_;
  std::string header_;
  std::string name_;
};

constexpr const char* kResults[] = {"ok", "retry", "fatal", "stopped"};

std::string status_code(int status) { return status == 0 ? "no_response" : std::to_string(status); }

}  // namespace

std::string render_metrics(const AgentStatus& s) {
  Exposition e;
  e.family("gpu_agent_info", "gauge",
           "The agent's version, the compute node it reports for and nova's installed version (empty when unknown); "
           "always 1.");
  e.sample({{"version", s.version}, {"compute_node", s.compute_node}, {"nova_version", s.nova_version}}, 1);
  e.family("gpu_agent_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.");
  e.sample(s.started_at);
  e.family("gpu_agent_interval_seconds", "gauge",
           "Seconds between reconcile passes ([agent] interval); the alert rules measure staleness in these.");
  e.sample(s.interval);

  // Passes.
  e.family("gpu_agent_passes_total", "counter",
           "Reconcile passes since the daemon started, by result: ok, retry (placement or keystone unreachable or "
           "failing, or the compute node not there yet), fatal (credentials refused or a config error), stopped.");
  for (const char* r : kResults) {
    auto it = s.passes_by_result.find(r);
    e.sample({{"result", r}}, static_cast<double>(it == s.passes_by_result.end() ? 0 : it->second));
  }
  if (s.last) {
    e.family("gpu_agent_last_pass_result", "gauge", "1 for the result of the last pass, 0 for the others.");
    for (const char* r : kResults) e.sample({{"result", r}}, s.last->result == r ? 1 : 0);
    e.family("gpu_agent_last_pass_timestamp_seconds", "gauge", "When the last pass ended, in seconds since the epoch.");
    e.sample(s.last->ended_at);
    e.family("gpu_agent_last_pass_duration_seconds", "gauge", "How long the last pass took.");
    e.sample(s.last->duration);
  }
  e.family("gpu_agent_last_success_timestamp_seconds", "gauge",
           "When the last successful pass ended, in seconds since the epoch; 0 when none has succeeded since the "
           "daemon started.");
  e.sample(s.last_success_at);
  e.family("gpu_agent_pass_duration_seconds", "histogram", "How long reconcile passes took.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kPassDurationBuckets.size(); ++i) {
    cumulative += s.duration_counts[i];
    e.sample({{"le", number(kPassDurationBuckets[i])}}, static_cast<double>(cumulative), "_bucket");
  }
  cumulative += s.duration_counts.back();
  e.sample({{"le", "+Inf"}}, static_cast<double>(cumulative), "_bucket");
  e.sample({}, s.duration_sum, "_sum");
  e.sample({}, static_cast<double>(cumulative), "_count");

  // The host, as the last pass that read it saw it.
  if (s.host) {
    const HostObservation& h = *s.host;
    e.family("gpu_agent_gpus", "gauge",
             "GPUs on this host by mode (passthrough, vgpu, unknown) and verdict (assignable: can be given to "
             "guests now; not_assignable: `gpu-agent inventory` says why).");
    for (const char* mode : {"passthrough", "vgpu", "unknown"})
      for (const char* verdict : {"assignable", "not_assignable"}) {
        auto it = h.gpus.find({mode, verdict});
        e.sample({{"mode", mode}, {"verdict", verdict}}, static_cast<double>(it == h.gpus.end() ? 0 : it->second));
      }
    for (const auto& [k, n] : h.gpus)
      if (k.first != "passthrough" && k.first != "vgpu" && k.first != "unknown")
        e.sample({{"mode", k.first}, {"verdict", k.second}}, static_cast<double>(n));
    e.family("gpu_agent_problems", "gauge",
             "Problems found on this host's GPUs, by code (iommu_off, driver_not_vfio, ...) and whether they keep "
             "the GPU from guests; `gpu-agent doctor` gives the fix.");
    for (const auto& [k, n] : h.problems)
      e.sample({{"code", k.first}, {"blocking", k.second ? "true" : "false"}}, static_cast<double>(n));
    e.family("gpu_agent_host_warnings", "gauge", "Host-wide warnings of the last inventory (not tied to one GPU).");
    e.sample(static_cast<double>(h.warnings));

    auto pool_labels = [](const PoolObservation& p) {
      return Labels{{"pool", p.key}, {"resource_class", p.resource_class}};
    };
    e.family("gpu_agent_pool_assignable_gpus", "gauge",
             "GPUs of the pool that can be given to guests now, as this host sees them.");
    for (const auto& p : h.pools) e.sample(pool_labels(p), static_cast<double>(p.assignable));
    e.family("gpu_agent_pool_unavailable_gpus", "gauge",
             "GPUs the pool matches that cannot be given to guests now (`gpu-agent inventory` says why).");
    for (const auto& p : h.pools) e.sample(pool_labels(p), static_cast<double>(p.unavailable));
    e.family("gpu_agent_pool_capacity_gpus", "gauge",
             "The pool's inventory total in Placement, as last read or written.");
    for (const auto& p : h.pools)
      if (p.total) e.sample(pool_labels(p), static_cast<double>(*p.total));
    e.family("gpu_agent_pool_reserved_gpus", "gauge",
             "The pool's reserved count in Placement (GPUs gone while allocated), as last read or written.");
    for (const auto& p : h.pools)
      if (p.reserved) e.sample(pool_labels(p), static_cast<double>(*p.reserved));
    e.family("gpu_agent_pool_used_gpus", "gauge",
             "GPUs of the pool allocated in Placement, as of gpu_agent_pool_used_read_timestamp_seconds.");
    for (const auto& p : h.pools)
      if (p.used) e.sample(pool_labels(p), static_cast<double>(*p.used));
    e.family("gpu_agent_pool_used_read_timestamp_seconds", "gauge",
             "When the pool's usage was last read from Placement, in seconds since the epoch ([agent] usage_refresh).");
    for (const auto& p : h.pools)
      if (p.used_read_at > 0) e.sample(pool_labels(p), p.used_read_at);
  }

  // Placement and keystone.
  e.family("gpu_agent_placement_requests_total", "counter",
           "Requests sent to Placement since the daemon started, by method and HTTP status code (no_response: "
           "unreachable, timed out or TLS failed).");
  for (const auto& [k, n] : s.requests)
    e.sample({{"method", k.first}, {"code", status_code(k.second)}}, static_cast<double>(n));
  e.family("gpu_agent_placement_conflicts_total", "counter",
           "409 Conflict answers from Placement since the daemon started, by Placement's error code "
           "(placement.concurrent_update: another writer moved a generation; the pass re-read and re-planned).");
  std::map<std::string, uint64_t> conflicts = s.conflicts;
  conflicts.emplace("placement.concurrent_update", 0);
  for (const auto& [c, n] : conflicts) e.sample({{"error_code", c}}, static_cast<double>(n));
  e.family("gpu_agent_keystone_token_requests_total", "counter",
           "Tokens asked of Keystone since the daemon started: the first, renewals before expiry and after a 401 "
           "(0 with a static token).");
  e.sample(static_cast<double>(s.token_requests));
  return std::move(e).text();
}

}  // namespace gpu_agent
