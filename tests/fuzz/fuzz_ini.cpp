// libFuzzer target: the INI parser (the agent's config, nova.conf) and the
// value parsers a config's values go through.
#include <cstdint>
#include <string_view>

#include "ini.h"
#include "parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ini = gpu_agent::parse_ini(text, "fuzz.conf");
  if (!ini) {
    (void)gpu_agent::printable(ini.error().message);
    return 0;
  }
  for (const auto& s : ini->sections)
    for (const auto& e : s.entries) {
      (void)gpu_agent::parse_seconds(e.value, 0.001, 86400);
      (void)gpu_agent::parse_int(e.value);
      (void)gpu_agent::printable(e.value);
      (void)s.find(e.key);
    }
  return 0;
}
