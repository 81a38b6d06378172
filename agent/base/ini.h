#pragma once
// oslo.config-style INI files (nova.conf and the agent's own): [section],
// "key = value", whole-line comments with # or ;, continuation lines indented.
// Every value remembers its file and line so errors can point at it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace gpu_agent {

struct IniEntry {
  std::string key, value;
  int line = 0;
};

struct IniSection {
  std::string name;
  int line = 0;
  std::vector<IniEntry> entries;
  // The last value of a key (oslo's rule for single-valued options).
  const IniEntry* find(std::string_view key) const;
  std::vector<const IniEntry*> find_all(std::string_view key) const;
};

struct IniFile {
  std::string path;
  std::vector<IniSection> sections;
  const IniSection* section(std::string_view name) const;
  std::string where(int line) const { return path + ":" + std::to_string(line); }
};

Result<IniFile> parse_ini(std::string_view text, const std::string& path);
Result<IniFile> load_ini(const std::string& path);

}  // namespace gpu_agent
