#pragma once
// Placement microversions ("1.39") and the choice the agent makes from the
// range a server offers in its root document.
#include <compare>
#include <string>
#include <string_view>

#include "result.h"

namespace gpu_agent::placement {

struct Microversion {
  int major = 1;
  int minor = 0;
  auto operator<=>(const Microversion&) const = default;
  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// "1.39" -> {1, 39}. No "latest": the agent always pins a number.
Result<Microversion> parse_microversion(std::string_view text);

// 1.26: reserved may equal total (a free device taken out of scheduling).
// Also covers 1.14 in_tree, 1.18 required traits, 1.20 POST returning the provider.
inline constexpr Microversion kMinMicroversion{1, 26};
// 1.39 is Zed's maximum (placement 8.0.0), the newest this code was proven with.
inline constexpr Microversion kMaxMicroversion{1, 39};

struct VersionRange {
  Microversion min;
  Microversion max;
};

// min(offered max, kMaxMicroversion), provided the server offers at least
// kMinMicroversion and the result is not below the server's minimum.
Result<Microversion> choose_microversion(const VersionRange& offered);

}  // namespace gpu_agent::placement
