#include "microversion.h"

#include <charconv>

namespace gpu_agent::placement {
namespace {

bool parse_number(std::string_view text, int& out) {
  if (text.empty() || text.size() > 4) return false;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

}  // namespace

Result<Microversion> parse_microversion(std::string_view text) {
  const auto dot = text.find('.');
  Microversion v;
  if (dot == std::string_view::npos || !parse_number(text.substr(0, dot), v.major) ||
      !parse_number(text.substr(dot + 1), v.minor)) {
    return make_error("bad microversion '" + std::string(text) + "' (expected MAJOR.MINOR, e.g. 1.39)");
  }
  return v;
}

Result<Microversion> choose_microversion(const VersionRange& offered) {
  const std::string range = offered.min.str() + " to " + offered.max.str();
  if (offered.max < kMinMicroversion) {
    return make_error("placement offers microversions " + range + "; the agent needs at least " +
                      kMinMicroversion.str() + " (placement from Queens or newer)");
  }
  const Microversion chosen = offered.max < kMaxMicroversion ? offered.max : kMaxMicroversion;
  if (chosen < offered.min) {
    return make_error("placement offers microversions " + range + "; the agent supports " + kMinMicroversion.str() +
                      " to " + kMaxMicroversion.str());
  }
  return chosen;
}

}  // namespace gpu_agent::placement
