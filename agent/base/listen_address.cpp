#include "listen_address.h"

namespace gpu_agent {

Result<ListenAddress> parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::bad_config,
                      "'" + text + "' " + why +
                          " (127.0.0.1:PORT or [::1]:PORT: loopback only, the metrics are not "
                          "authenticated; other hosts scrape node_exporter's textfile collector)");
  };
  if (colon == std::string::npos) return bad("has no port");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host != "127.0.0.1" && host != "::1" && host != "localhost") return bad("is not a loopback address");
  if (host == "localhost") host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return bad("has no port number");
  const long p = std::stol(port);
  if (p < 1 || p > 65535) return bad("has a port outside 1-65535");
  return ListenAddress{host, static_cast<uint16_t>(p)};
}

}  // namespace gpu_agent
