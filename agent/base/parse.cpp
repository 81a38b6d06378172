#include "parse.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gpu_agent {
namespace {

std::string quoted(std::string_view s) { return "'" + printable(s) + "'"; }

// A bound as it reads best: 0.1, 1, 3600.
std::string bound_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

std::string printable(std::string_view s, size_t max) {
  std::string out;
  const std::string_view shown = s.substr(0, max);
  for (size_t i = 0; i < shown.size();) {
    const unsigned char c = static_cast<unsigned char>(shown[i]);
    size_t n = c >= 0x80 ? utf8_sequence(shown, i) : 1;
    if (n > 1 && shown.substr(i, n) == "\xEF\xBB\xBF") n = 0;  // the BOM: invisible, so shown
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (n == 0 || c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      n = 1;
    } else out.append(shown.substr(i, n));
    i += n;
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string_view trim_space(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string to_hex(uint32_t value, int width, bool upper) {
  char buf[16];
  std::snprintf(buf, sizeof buf, upper ? "%0*X" : "%0*x", width, value);
  return buf;
}

std::string PciAddress::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", domain, bus, slot, function);
  return buf;
}

Result<PciAddress> parse_pci_address(std::string_view text) {
  std::string_view s = trim_space(text);
  // DDDD:BB:SS.F, domain may be longer (VMD uses 10000:..)
  size_t c1 = s.find(':');
  size_t c2 = c1 == std::string_view::npos ? c1 : s.find(':', c1 + 1);
  size_t dot = c2 == std::string_view::npos ? c2 : s.find('.', c2 + 1);
  if (dot == std::string_view::npos)
    return make_error("not a PCI address " + quoted(text) + " (expected DDDD:BB:SS.F)");
  auto hexpart = [](std::string_view p, size_t maxlen, uint32_t& out) {
    if (p.empty() || p.size() > maxlen) return false;
    for (char c : p)
      if (!is_hex(c)) return false;
    return std::from_chars(p.data(), p.data() + p.size(), out, 16).ec == std::errc{};
  };
  uint32_t d = 0, b = 0, sl = 0, f = 0;
  if (!hexpart(s.substr(0, c1), 8, d) || !hexpart(s.substr(c1 + 1, c2 - c1 - 1), 2, b) ||
      !hexpart(s.substr(c2 + 1, dot - c2 - 1), 2, sl) || !hexpart(s.substr(dot + 1), 1, f) || sl > 0x1f || f > 7)
    return make_error("not a PCI address " + quoted(text) + " (expected DDDD:BB:SS.F)");
  return PciAddress{d, static_cast<uint8_t>(b), static_cast<uint8_t>(sl), static_cast<uint8_t>(f)};
}

Result<uint32_t> parse_hex(std::string_view text, int max_digits) {
  std::string_view s = trim_space(text);
  if (s.empty()) return make_error("empty, expected a hex number");
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > static_cast<size_t>(max_digits))
    return make_error("not a hex number of at most " + std::to_string(max_digits) + " digits: " + quoted(text));
  for (char c : s)
    if (!is_hex(c)) return make_error("not a hex number: " + quoted(text));
  uint32_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

Result<int64_t> parse_int(std::string_view text) {
  std::string_view s = trim_space(text);
  if (s.empty()) return make_error("empty, expected a number");
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc{} || end != s.data() + s.size()) return make_error("not a number: " + quoted(text));
  return v;
}

Result<double> parse_seconds(std::string_view text, double min, double max) {
  const std::string s(text);  // strtod needs the terminating NUL
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  // end must reach the real end: text after an embedded NUL is not ignored
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < min || v > max)
    return make_error(quoted(text) + " is not a number from " + bound_text(min) + " to " + bound_text(max));
  return v;
}

std::string seconds_text(double seconds) {
  char buf[32];
  if (seconds >= 100) std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  else std::snprintf(buf, sizeof buf, "%.3g s", seconds);
  return buf;
}

Result<MdevDescription> parse_mdev_description(std::string_view text) {
  MdevDescription d;
  std::string_view s = trim_space(text);
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = trim_space(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;  // free text some vendors add
    std::string_view key = trim_space(item.substr(0, eq)), val = trim_space(item.substr(eq + 1));
    auto number = [&](std::optional<int64_t>& out) -> Result<bool> {
      auto v = parse_int(val);
      if (!v) return make_error(std::string(key) + ": " + v.error().message);
      out = *v;
      return true;
    };
    Result<bool> r = true;
    if (key == "num_heads") r = number(d.num_heads);
    else if (key == "frl_config") r = number(d.frl_config);
    else if (key == "max_instance") r = number(d.max_instance);
    else if (key == "max_resolution") d.max_resolution = std::string(val);
    else if (key == "framebuffer") {
      // "24576M", "1G", or bytes-free "1024"; MiB is what flavors and traits use.
      std::string_view num = val;
      int64_t scale = 1;
      if (!num.empty() && (num.back() == 'M' || num.back() == 'm')) num.remove_suffix(1);
      else if (!num.empty() && (num.back() == 'G' || num.back() == 'g')) {
        num.remove_suffix(1);
        scale = 1024;
      }
      auto v = parse_int(num);
      if (!v) return make_error("framebuffer: not a size like 24576M: " + quoted(val));
      d.framebuffer_mib = *v * scale;
    }
    if (!r) return r.error();
  }
  return d;
}

Result<std::vector<VgpuTypeEntry>> parse_creatable_vgpu_types(std::string_view text) {
  std::vector<VgpuTypeEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim_space(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || !(line.front() >= '0' && line.front() <= '9')) continue;  // header "ID : vGPU Name"
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return make_error("expected 'ID : NAME', got " + quoted(line));
    auto id = parse_int(line.substr(0, colon));
    if (!id) return make_error("bad vGPU type id in " + quoted(line));
    std::string_view name = trim_space(line.substr(colon + 1));
    if (name.empty()) return make_error("vGPU type " + std::to_string(*id) + " has no name");
    out.push_back({*id, std::string(name)});
  }
  return out;
}

std::string short_vgpu_name(std::string_view name) {
  std::string_view s = trim_space(name);
  for (std::string_view prefix : {"NVIDIA ", "GRID "})
    if (s.substr(0, prefix.size()) == prefix) return std::string(s.substr(prefix.size()));
  return std::string(s);
}

size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  const unsigned c = b(i);
  const auto cont = [&](size_t k) { return (b(k) & 0xc0u) == 0x80u; };
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return b(i + 1) >= lo && b(i + 1) <= hi && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return b(i + 1) >= lo && b(i + 1) <= hi && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

}  // namespace gpu_agent
