#include "state.h"

#include "atomic_file.h"

#include <rapidjson/document.h>
#include <sys/stat.h>

#include "file_check.h"
#include "fs.h"
#include "json.h"

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
  if (!v.IsObject()) return std::nullopt;
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto m = v.FindMember(k);
    if (m == v.MemberEnd() || !m->value.IsString()) return std::nullopt;
    return std::string(m->value.GetString(), m->value.GetStringLength());
  };
  auto node = str("compute_node"), root = str("root"), desired = str("desired");
  auto gens = v.FindMember("generations");
  auto pools = v.FindMember("pools");
  if (!node || !root || !desired || gens == v.MemberEnd() || !gens->value.IsObject() || pools == v.MemberEnd() ||
      !pools->value.IsObject())
    return std::nullopt;
  ResumePoint r{*node, *root, *desired, {}, {}};
  for (const auto& g : gens->value.GetObject()) {
    if (!g.value.IsInt64()) return std::nullopt;
    r.generations[g.name.GetString()] = g.value.GetInt64();
  }
  for (const auto& p : pools->value.GetObject()) {
    const auto& o = p.value;
    if (!o.IsObject() || !o.HasMember("provider") || !o["provider"].IsString() || !o.HasMember("total") ||
        !o["total"].IsInt64() || !o.HasMember("reserved") || !o["reserved"].IsInt64() || !o.HasMember("used") ||
        !(o["used"].IsInt64() || o["used"].IsNull()) || !o.HasMember("used_read_at") || !o["used_read_at"].IsNumber())
      return std::nullopt;
    PoolReading pr;
    pr.provider_uuid = o["provider"].GetString();
    pr.total = o["total"].GetInt64();
    pr.reserved = o["reserved"].GetInt64();
    if (o["used"].IsInt64()) pr.used = o["used"].GetInt64();
    pr.used_read_at = o["used_read_at"].GetDouble();
    r.readings[p.name.GetString()] = pr;
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
  auto ot = d.FindMember("owned_traits");
  if (ot == d.MemberEnd()) return s;
  if (!ot->value.IsObject()) return make_error(origin + ": owned_traits is not an object");
  for (const auto& m : ot->value.GetObject()) {
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
