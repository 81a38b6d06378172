#include "ini.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gpu_agent {
namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

const IniEntry* IniSection::find(std::string_view key) const {
  const IniEntry* found = nullptr;
  for (const auto& e : entries)
    if (e.key == key) found = &e;
  return found;
}

std::vector<const IniEntry*> IniSection::find_all(std::string_view key) const {
  std::vector<const IniEntry*> out;
  for (const auto& e : entries)
    if (e.key == key) out.push_back(&e);
  return out;
}

const IniSection* IniFile::section(std::string_view name) const {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

Result<IniFile> parse_ini(std::string_view text, const std::string& path) {
  IniFile f;
  f.path = path;
  IniSection* cur = nullptr;
  IniEntry* last = nullptr;
  int lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    std::string_view line = trim(raw);
    if (line.empty()) {
      last = nullptr;
      if (nl == text.size()) break;
      continue;
    }
    if (line.front() == '#' || line.front() == ';') continue;
    if ((raw.front() == ' ' || raw.front() == '\t') && last) {  // continuation of the previous value
      last->value += "\n";
      last->value += line;
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3)
        return make_error(path + ":" + std::to_string(lineno) + ": malformed section header '" + std::string(line) +
                          "' (expected [name])");
      std::string name(trim(line.substr(1, line.size() - 2)));
      cur = nullptr;
      for (auto& s : f.sections)
        if (s.name == name) cur = &s;  // a repeated section continues the first
      if (!cur) {
        f.sections.push_back({name, lineno, {}});
        cur = &f.sections.back();
      }
      last = nullptr;
      continue;
    }
    size_t eq = line.find_first_of("=:");
    if (eq == std::string_view::npos)
      return make_error(path + ":" + std::to_string(lineno) + ": expected 'key = value', got '" +
                        std::string(line.substr(0, 60)) + "'");
    if (!cur)
      return make_error(path + ":" + std::to_string(lineno) + ": '" + std::string(trim(line.substr(0, eq))) +
                        "' comes before any [section]");
    std::string key(trim(line.substr(0, eq)));
    if (key.empty()) return make_error(path + ":" + std::to_string(lineno) + ": empty key");
    cur->entries.push_back({key, std::string(trim(line.substr(eq + 1))), lineno});
    last = &cur->entries.back();
    if (nl == text.size()) break;
  }
  return f;
}

Result<IniFile> load_ini(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return os_error("cannot open " + path + ": " + std::strerror(errno), errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_ini(ss.str(), path);
}

}  // namespace gpu_agent
