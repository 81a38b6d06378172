#pragma once
// Endpoint URLs (http/https, host incl. [IPv6], port, base path) and the
// percent-encoding used to put names and UUIDs into request paths.
#include <cstdint>
#include <string>
#include <string_view>

#include "result.h"

namespace gpu_agent::http {

struct Url {
  std::string scheme;      // "http" or "https"
  std::string host;        // without brackets: "127.0.0.1", "::1", "placement.example"
  std::uint16_t port = 0;  // explicit or the scheme's default
  std::string base_path;   // "" or "/placement" (never a trailing slash)

  bool tls() const { return scheme == "https"; }
  bool host_is_ip_literal() const;
  // "https://[::1]:8778": how errors name the server.
  std::string origin() const;
  // Value of the Host header: the port only when it is not the default.
  std::string host_header() const;
  // origin + base_path + path; path starts with '/'.
  std::string full(std::string_view path) const;
};

// Accepts "http://h", "https://h:1234/base/", "http://[::1]:8778". Rejects
// user info, queries and fragments (an endpoint is not a request).
Result<Url> parse_url(std::string_view text);

// RFC 3986 percent-encoding of everything except unreserved characters, for
// one path segment or one query value.
std::string percent_encode(std::string_view text);

}  // namespace gpu_agent::http
