#include "agent_status.h"

#include <rapidjson/document.h>

#include <cmath>
#include <ctime>

#include "json.h"
#include "json_read.h"

namespace gpu_agent {

const char* result_name(PassOutcome::Kind k) {
  switch (k) {
    case PassOutcome::Kind::ok: return "ok";
    case PassOutcome::Kind::retry: return "retry";
    case PassOutcome::Kind::fatal: return "fatal";
    case PassOutcome::Kind::stopped: return "stopped";
  }
  return "unknown";
}

void record_pass(AgentStatus& s, const PassOutcome& o, double ended_at, double duration) {
  LastPass last;
  last.ended_at = ended_at;
  last.duration = duration;
  last.result = result_name(o.kind);
  last.message = o.message;
  last.config_error = o.config_error;
  last.requests = o.stats.requests;
  last.writes = o.stats.writes;
  last.quick = o.stats.quick;
  s.last = last;
  ++s.passes;
  ++s.passes_by_result[last.result];
  if (o.kind == PassOutcome::Kind::ok) s.last_success_at = ended_at;
  size_t b = 0;
  while (b < kPassDurationBuckets.size() && duration > kPassDurationBuckets[b]) ++b;
  ++s.duration_counts[b];
  s.duration_sum += duration;
  if (o.observed) {
    s.host = *o.observed;
    if (!o.observed->compute_node.empty()) s.compute_node = o.observed->compute_node;
  }
  for (const auto& [k, n] : o.stats.by_status) s.requests[k] += n;
  for (const auto& [k, n] : o.stats.conflicts) s.conflicts[k] += n;
  s.token_requests += o.stats.token_requests;
}

std::string status_to_json(const AgentStatus& s) {
  JsonWriter w(JsonStyle::pretty);
  write_status(w, s);
  return w.finish();
}

void write_status(JsonWriter& w, const AgentStatus& s) {
  w.begin_object();
  w.key("schema_version").integer(1);
  w.key("version").string(s.version);
  w.key("pid").integer(s.pid);
  w.key("config").string(s.config_path);
  w.key("compute_node").string(s.compute_node);
  w.key("nova_version").string(s.nova_version);
  w.key("interval_seconds").number(s.interval);
  w.key("started_at").number(s.started_at);
  w.key("passes").unsigned_integer(s.passes);
  w.key("passes_by_result").begin_object();
  for (const auto& [r, n] : s.passes_by_result) w.key(r).unsigned_integer(n);
  w.end_object();
  w.key("last_pass");
  if (!s.last) {
    w.null();
  } else {
    const LastPass& l = *s.last;
    w.begin_object();
    w.key("ended_at").number(l.ended_at);
    w.key("duration_seconds").number(l.duration);
    w.key("result").string(l.result);
    w.key("message").string(l.message);
    w.key("config_error").boolean(l.config_error);
    w.key("requests").unsigned_integer(l.requests);
    w.key("writes").unsigned_integer(l.writes);
    w.key("quick").boolean(l.quick);
    w.end_object();
  }
  w.key("last_success_at");
  if (s.last_success_at > 0) w.number(s.last_success_at);
  else w.null();
  w.key("host");
  if (!s.host) {
    w.null();
  } else {
    const HostObservation& h = *s.host;
    w.begin_object();
    w.key("gpus").begin_array();
    for (const auto& [k, n] : h.gpus) {
      w.begin_object();
      w.key("mode").string(k.first);
      w.key("verdict").string(k.second);
      w.key("count").integer(n);
      w.end_object();
    }
    w.end_array();
    w.key("problems").begin_array();
    for (const auto& [k, n] : h.problems) {
      w.begin_object();
      w.key("code").string(k.first);
      w.key("blocking").boolean(k.second);
      w.key("count").integer(n);
      w.end_object();
    }
    w.end_array();
    w.key("warnings").integer(h.warnings);
    w.key("pools").begin_array();
    for (const auto& p : h.pools) {
      w.begin_object();
      w.key("pool").string(p.key);
      w.key("resource_class").string(p.resource_class);
      w.key("on_host").boolean(p.on_host);
      w.key("assignable").integer(p.assignable);
      w.key("unavailable").integer(p.unavailable);
      w.key("total").integer_or_null(p.total);
      w.key("reserved").integer_or_null(p.reserved);
      w.key("used").integer_or_null(p.used);
      w.key("used_read_at");
      if (p.used_read_at > 0) w.number(p.used_read_at);
      else w.null();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.key("placement_requests").begin_array();
  for (const auto& [k, n] : s.requests) {
    w.begin_object();
    w.key("method").string(k.first);
    w.key("status").integer(k.second);
    w.key("count").unsigned_integer(n);
    w.end_object();
  }
  w.end_array();
  w.key("placement_conflicts").begin_object();
  for (const auto& [c, n] : s.conflicts) w.key(c).unsigned_integer(n);
  w.end_object();
  w.key("keystone_token_requests").unsigned_integer(s.token_requests);
  w.end_object();
}

namespace {

using Value = rapidjson::Value;

// Readers that keep the first member that was wrong (json_read.h says which
// and how) and go on with a default; absent or null members are the default.
struct Reader {
  std::string origin;
  std::optional<Error> error;

  template <class T>
  std::optional<T> take(const Value& o, const char* name) {
    auto v = json::optional<T>(o, name, origin);
    if (v) return *v;
    if (!error) error = v.error();
    return std::nullopt;
  }
  void bad(const std::string& what) {
    if (!error) error = make_error(ErrorKind::bad_input, origin + ": " + what);
  }
  const Value* object(const Value& o, const char* name) {
    auto v = take<json::Object>(o, name);
    return v ? v->value : nullptr;
  }
  std::string str(const Value& o, const char* name) { return take<std::string>(o, name).value_or(""); }
  double num(const Value& o, const char* name) { return take<double>(o, name).value_or(0); }
  int64_t integer(const Value& o, const char* name) { return take<int64_t>(o, name).value_or(0); }
  std::optional<int64_t> opt_integer(const Value& o, const char* name) { return take<int64_t>(o, name); }
  uint64_t count(const Value& o, const char* name) { return take<uint64_t>(o, name).value_or(0); }
  bool boolean(const Value& o, const char* name) { return take<bool>(o, name).value_or(false); }
  template <class F>
  void each(const Value& o, const char* name, F f) {
    auto v = take<json::Array>(o, name);
    if (!v) return;
    for (const auto& e : v->value->GetArray()) {
      if (!e.IsObject()) return bad("member '" + std::string(name) + "' has an element that is not an object");
      f(e);
    }
  }
  template <class F>
  void counts(const Value& o, const char* name, F f) {
    const Value* v = object(o, name);
    if (!v) return;
    for (const auto& m : v->GetObject()) {
      if (!m.value.IsUint64())
        return bad("member '" + std::string(name) + "." + m.name.GetString() + "' is not a count");
      f(std::string(m.name.GetString(), m.name.GetStringLength()), m.value.GetUint64());
    }
  }
};

}  // namespace

Result<AgentStatus> status_from_json(const std::string& text, const std::string& origin) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject())
    return make_error(ErrorKind::bad_input, origin + ": not a gpu-agent status file (invalid JSON)");
  Reader r{origin, std::nullopt};
  if (r.integer(d, "schema_version") != 1)
    return make_error(ErrorKind::bad_input,
                      origin + ": schema_version is not 1 (written by another gpu-agent version?)");
  AgentStatus s;
  s.version = r.str(d, "version");
  s.pid = r.integer(d, "pid");
  s.config_path = r.str(d, "config");
  s.compute_node = r.str(d, "compute_node");
  s.nova_version = r.str(d, "nova_version");
  s.interval = r.num(d, "interval_seconds");
  s.started_at = r.num(d, "started_at");
  s.passes = r.count(d, "passes");
  r.counts(d, "passes_by_result", [&](const std::string& k, uint64_t n) { s.passes_by_result[k] = n; });
  if (const Value* l = r.object(d, "last_pass")) {
    LastPass p;
    p.ended_at = r.num(*l, "ended_at");
    p.duration = r.num(*l, "duration_seconds");
    p.result = r.str(*l, "result");
    p.message = r.str(*l, "message");
    p.config_error = r.boolean(*l, "config_error");
    p.requests = r.count(*l, "requests");
    p.writes = r.count(*l, "writes");
    p.quick = r.boolean(*l, "quick");
    s.last = p;
  }
  s.last_success_at = r.num(d, "last_success_at");
  if (const Value* h = r.object(d, "host")) {
    HostObservation host;
    host.compute_node = s.compute_node;
    r.each(*h, "gpus", [&](const Value& g) {
      host.gpus[{r.str(g, "mode"), r.str(g, "verdict")}] = r.integer(g, "count");
    });
    r.each(*h, "problems", [&](const Value& p) {
      host.problems[{r.str(p, "code"), r.boolean(p, "blocking")}] = r.integer(p, "count");
    });
    host.warnings = r.integer(*h, "warnings");
    r.each(*h, "pools", [&](const Value& p) {
      PoolObservation po;
      po.key = r.str(p, "pool");
      po.resource_class = r.str(p, "resource_class");
      po.on_host = r.boolean(p, "on_host");
      po.assignable = r.integer(p, "assignable");
      po.unavailable = r.integer(p, "unavailable");
      po.total = r.opt_integer(p, "total");
      po.reserved = r.opt_integer(p, "reserved");
      po.used = r.opt_integer(p, "used");
      po.used_read_at = r.num(p, "used_read_at");
      host.pools.push_back(std::move(po));
    });
    s.host = std::move(host);
  }
  r.each(d, "placement_requests", [&](const Value& q) {
    s.requests[{r.str(q, "method"), static_cast<int>(r.integer(q, "status"))}] = r.count(q, "count");
  });
  r.counts(d, "placement_conflicts", [&](const std::string& k, uint64_t n) { s.conflicts[k] = n; });
  s.token_requests = r.count(d, "keystone_token_requests");
  if (r.error) return *r.error;
  return s;
}

std::string utc_clock(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
  return buf;
}

std::string status_line(const AgentStatus& s) {
  std::string line;
  if (s.host) {
    for (const auto& p : s.host->pools) {
      if (!line.empty()) line += "; ";
      const int64_t offered = p.total ? *p.total - p.reserved.value_or(0) : p.assignable;
      line += std::to_string(offered) + "/" + std::to_string(p.assignable + p.unavailable) + " GPUs in pool " + p.key;
      if (p.used) line += ", " + std::to_string(*p.used) + " used";
      if (!p.on_host) line += " (no longer on this host)";
    }
    if (s.host->pools.empty()) line = "no GPU pool on this host";
  }
  if (s.last) {
    if (!line.empty()) line += "; ";
    line += "last pass " + s.last->result + " at " + utc_clock(s.last->ended_at);
    if (!s.last->message.empty()) line += " (" + s.last->message + ")";
  }
  // systemd shows one line (and a newline would end the STATUS= field); keep it readable
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  if (line.size() > 400) line = line.substr(0, 397) + "...";
  return line;
}

}  // namespace gpu_agent
