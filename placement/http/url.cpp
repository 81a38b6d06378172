#include "url.h"

#include <arpa/inet.h>

#include <charconv>

namespace gpu_agent::http {
namespace {

bool is_ipv6_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool is_ipv4_literal(const std::string& host) {
  unsigned char buf[4];
  return inet_pton(AF_INET, host.c_str(), buf) == 1;
}

// ASCII only: std::isalnum would follow the global locale.
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

Error bad(std::string_view text, std::string_view why) {
  return make_error("bad URL '" + std::string(text) + "': " + std::string(why));
}

bool valid_reg_name(std::string_view host) {
  for (char c : host) {
    if (!(is_alnum(c) || c == '-' || c == '.' || c == '_')) return false;
  }
  return !host.empty();
}

}  // namespace

bool Url::host_is_ip_literal() const { return is_ipv4_literal(host) || is_ipv6_literal(host); }

std::string Url::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  const bool default_port = (tls() && port == 443) || (!tls() && port == 80);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

std::string Url::full(std::string_view path) const { return origin() + base_path + std::string(path); }

Result<Url> parse_url(std::string_view text) {
  Url url;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad(text, "no scheme (expected http:// or https://)");
  for (char c : text.substr(0, sep)) url.scheme += to_lower(c);
  if (url.scheme != "http" && url.scheme != "https") return bad(text, "scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return bad(text, "query or fragment not allowed");

  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad(text, "user info not allowed");
  if (authority.empty()) return bad(text, "no host");

  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad(text, "unterminated '[' in host");
    url.host = std::string(authority.substr(1, close - 1));
    if (!is_ipv6_literal(url.host)) return bad(text, "not an IPv6 address in []");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad(text, "junk after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return bad(text, "empty port");
    }
  } else {
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
      if (port_text.empty()) return bad(text, "empty port");
    }
    if (authority.find(':') != std::string_view::npos) return bad(text, "IPv6 address must be in []");
    if (!valid_reg_name(authority)) return bad(text, "invalid host name");
    for (char c : authority) url.host += to_lower(c);
  }

  if (port_text.empty()) {
    url.port = url.tls() ? 443 : 80;
  } else {
    unsigned value = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value == 0 || value > 65535) return bad(text, "invalid port");
    url.port = static_cast<std::uint16_t>(value);
  }

  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0F];
    }
  }
  return out;
}

}  // namespace gpu_agent::http
