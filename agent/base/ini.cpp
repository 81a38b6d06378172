#include "ini.h"

#include <algorithm>

#include "file_check.h"
#include "parse.h"

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
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 BOM some editors write
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
    return make_error(ErrorKind::bad_config, path + ":" + std::to_string(line) +
                                                 ": contains a NUL byte (a binary or damaged file?); "
                                                 "nothing after it would be read");
  }
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
        return make_error(path + ":" + std::to_string(lineno) + ": malformed section header '" + printable(line) +
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
      return make_error(path + ":" + std::to_string(lineno) + ": expected 'key = value', got '" + printable(line, 60) +
                        "'");
    if (!cur)
      return make_error(path + ":" + std::to_string(lineno) + ": '" + printable(trim(line.substr(0, eq))) +
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
  auto text = read_checked_file(path, "config file", true);
  if (!text) return text.error();
  return parse_ini(*text, path);
}

}  // namespace gpu_agent
