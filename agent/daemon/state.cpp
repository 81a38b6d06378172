#include "state.h"

#include "atomic_file.h"

#include <rapidjson/document.h>
#include <sys/stat.h>

#include "file_check.h"
#include "fs.h"
#include "json.h"
#include "json_read.h"

namespace gpu_agent {

std::string state_to_json(const AgentState& s) {
  JsonWriter w(JsonStyle::pretty);
  w.begin_object();
  w.key("version").integer(1);
  w.key("owned_traits").begin_object();
  for (const auto& [uuid, traits] : s.owned_traits) w.key(uuid).strings(traits);
  w.end_object();
  if (s.resume) {
    const ResumePoint& r = *s.resume;
    w.key("resume").begin_object();
    w.key("compute_node").string(r.compute_node);
    w.key("root").string(r.root_uuid);
    w.key("desired").string(r.desired);
    w.key("generations").begin_object();
    for (const auto& [uuid, g] : r.generations) w.key(uuid).integer(g);
    w.end_object();
    w.key("pools").begin_object();
    for (const auto& [rc, p] : r.readings) {
      w.key(rc).begin_object();
      w.key("provider").string(p.provider_uuid);
      w.key("total").integer(p.total);
      w.key("reserved").integer(p.reserved);
      w.key("used").integer_or_null(p.used);
      w.key("used_read_at").number(p.used_read_at);
      w.end_object();
    }
    w.end_object();
    w.end_object();
  }
  w.end_object();
  return w.finish();
}

namespace {

// The resume point, or nothing when any part is not as written: it is only a
// shortcut, so a file from another version costs one full read, never an error.
std::optional<ResumePoint> resume_from(const rapidjson::Value& v) {
  auto node = json::member<std::string>(v, "compute_node", "resume");
  auto root = json::member<std::string>(v, "root", "resume");
  auto desired = json::member<std::string>(v, "desired", "resume");
  auto gens = json::member<json::Object>(v, "generations", "resume");
  auto pools = json::member<json::Object>(v, "pools", "resume");
  if (!node || !root || !desired || !gens || !pools) return std::nullopt;
  ResumePoint r{*node, *root, *desired, {}, {}};
  for (const auto& g : gens->value->GetObject()) {
    if (!g.value.IsInt64()) return std::nullopt;
    r.generations[g.name.GetString()] = g.value.GetInt64();
  }
  for (const auto& p : pools->value->GetObject()) {
    const auto& o = p.value;
    auto provider = json::member<std::string>(o, "provider", "pool");
    auto total = json::member<int64_t>(o, "total", "pool");
    auto reserved = json::member<int64_t>(o, "reserved", "pool");
    auto used = json::optional<int64_t>(o, "used", "pool");  // null: not read yet
    auto read_at = json::member<double>(o, "used_read_at", "pool");
    if (!provider || !total || !reserved || !json::find(o, "used") || !used || !read_at) return std::nullopt;
    r.readings[p.name.GetString()] = PoolReading{*provider, *total, *reserved, *used, *read_at};
  }
  return r;
}

}  // namespace

Result<AgentState> state_from_json(const std::string& text, const std::string& origin) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject())
    return make_error(ErrorKind::bad_input,
                      origin + ": not a gpu-agent state file (invalid JSON" +
                          (d.HasParseError() ? " at byte " + std::to_string(d.GetErrorOffset()) : std::string()) +
                          ": torn by a crash, or written by something else?)");
  AgentState s;
  if (auto r = d.FindMember("resume"); r != d.MemberEnd()) s.resume = resume_from(r->value);
  auto ot = json::optional<json::Object>(d, "owned_traits", origin);
  if (!ot) return ot.error();
  if (!*ot) return s;
  for (const auto& m : (*ot)->value->GetObject()) {
    if (!m.value.IsArray()) return make_error(origin + ": owned_traits." + m.name.GetString() + " is not a list");
    auto& set = s.owned_traits[m.name.GetString()];
    for (const auto& t : m.value.GetArray()) {
      if (!t.IsString()) return make_error(origin + ": owned_traits." + m.name.GetString() + " has a non-string");
      set.insert(t.GetString());
    }
  }
  return s;
}

Result<AgentState> load_state(const std::string& path) {
  auto text = read_checked_file(path, "state file", false);
  if (!text && text.error().kind == ErrorKind::not_found) return AgentState{};
  if (!text) return text.error();
  return state_from_json(*text, path);
}

Result<bool> save_state(const std::string& path, const AgentState& s) {
  const std::string dir(dir_name(path));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0750);  // one level, like a systemd StateDirectory
  if (auto w = write_file_atomically(path, state_to_json(s)); !w)
    return with_context("cannot save the state file", w.error());
  return true;
}

}  // namespace gpu_agent
