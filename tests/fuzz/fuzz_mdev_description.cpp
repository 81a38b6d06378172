// libFuzzer target: what vendor drivers write in sysfs: NVIDIA's mdev type
// descriptions and creatable_vgpu_types, and the small sysfs value parsers.
#include <cstdint>
#include <string_view>

#include "parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)gpu_agent::parse_mdev_description(text);
  (void)gpu_agent::parse_creatable_vgpu_types(text);
  (void)gpu_agent::short_vgpu_name(text);
  (void)gpu_agent::parse_pci_address(text);
  (void)gpu_agent::parse_hex(text, 4);
  (void)gpu_agent::parse_hex(text, 6);
  (void)gpu_agent::printable(text);
  return 0;
}
