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
  w.end_object();
  return w.finish();
}

Result<AgentState> state_from_json(const std::string& text, const std::string& origin) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject())
    return make_error(ErrorKind::bad_input,
                      origin + ": not a gpu-agent state file (invalid JSON" +
                          (d.HasParseError() ? " at byte " + std::to_string(d.GetErrorOffset()) : std::string()) +
                          ": torn by a crash, or written by something else?)");
  AgentState s;
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
