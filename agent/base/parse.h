#pragma once
// Pure parsers for the strings sysfs and vendor drivers give us. Each takes
// the raw file content (trailing newline and all) and returns a value or an
// error that says what was wrong with the text; the caller adds the path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace gpu_agent {

struct PciAddress {
  uint32_t domain = 0;
  uint8_t bus = 0, slot = 0, function = 0;

  std::string to_string() const;  // "0000:3b:00.0"
  // Functions of one card share domain, bus and slot.
  bool same_card(const PciAddress& o) const { return domain == o.domain && bus == o.bus && slot == o.slot; }
  auto operator<=>(const PciAddress&) const = default;
};

Result<PciAddress> parse_pci_address(std::string_view text);
// "0x10de\n" -> 0x10de. max_digits bounds the width (4 for IDs, 6 for class).
Result<uint32_t> parse_hex(std::string_view text, int max_digits);
// "-1\n" -> -1; decimal only.
Result<int64_t> parse_int(std::string_view text);
// "2.5" -> 2.5: a number of seconds from min to max, as strtod reads it (no
// trailing characters; NaN and infinity are not numbers). The one parser for
// durations (interval, jitter, retry, timeout; the CLI's --interval). Error:
// "'TEXT' is not a number from MIN to MAX", the bounds as whole numbers.
Result<double> parse_seconds(std::string_view text, double min, double max);
// Seconds as a log line says them: "0.25 s", "1.5 s", "60 s", "3600 s" (three
// significant digits below 100, whole seconds above; never "0 s" for 0.2).
std::string seconds_text(double seconds);
// 0x10de, 4 -> "10de" (upper: "10DE"): IDs as the JSON, traits and messages show them.
std::string to_hex(uint32_t value, int width, bool upper = false);
// TEXT as a message may show it: control characters, DEL, bytes that are not
// UTF-8 and the invisible BOM as \xNN (\n and \t as such), cut at MAX bytes
// with "...". Operators' files and sysfs values reach messages through this.
std::string printable(std::string_view text, size_t max = 64);
// Trim ASCII whitespace (sysfs values end with "\n").
std::string_view trim_space(std::string_view text);

// NVIDIA mdev type descriptions, e.g.
// "num_heads=4, frl_config=60, framebuffer=24576M, max_resolution=7680x4320, max_instance=2"
struct MdevDescription {
  std::optional<int64_t> num_heads, frl_config, framebuffer_mib, max_instance;
  std::optional<std::string> max_resolution;
};
// Unknown keys are ignored; a known key with a bad value is an error.
Result<MdevDescription> parse_mdev_description(std::string_view text);

// nvidia/creatable_vgpu_types on a VF (vGPU 17+, no mdev bus):
//   "ID    : vGPU Name\n1041  : NVIDIA H100-1-10C\n..."
struct VgpuTypeEntry {
  int64_t id = 0;
  std::string name;
};
Result<std::vector<VgpuTypeEntry>> parse_creatable_vgpu_types(std::string_view text);

// "NVIDIA A40-24Q" / "GRID T4-16Q" -> "A40-24Q"; other names unchanged.
std::string short_vgpu_name(std::string_view name);

// Length of the valid UTF-8 sequence at s[i], 0 if there is none (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF). sysfs garbage reaches
// messages and JSON, which must stay UTF-8.
size_t utf8_sequence(std::string_view s, size_t i);

}  // namespace gpu_agent
