// libFuzzer target: the capture (fixture) parser, and the formatter on what
// it accepted; a tree it formatted must parse again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fx = gpu_agent::parse_fixture(text, "fuzz");
  if (!fx) return 0;
  const std::string again = gpu_agent::format_fixture(*fx->fs, fx->meta);
  if (!gpu_agent::parse_fixture(again, "fuzz-formatted")) std::abort();  // what we write, we read
  return 0;
}
