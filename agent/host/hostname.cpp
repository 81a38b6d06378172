#include "hostname.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>

namespace gpu_agent {

std::string local_hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

namespace {
// Canonical name from the resolver (usually /etc/hosts), as libvirt does when
// gethostname() gives a short name.
std::optional<std::string> fqdn(const std::string& short_name) {
  if (short_name.find('.') != std::string::npos) return short_name;
  addrinfo hints{};
  hints.ai_flags = AI_CANONNAME;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  if (::getaddrinfo(short_name.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  std::optional<std::string> out;
  if (res->ai_canonname && std::strchr(res->ai_canonname, '.')) out = res->ai_canonname;
  ::freeaddrinfo(res);
  return out;
}
}  // namespace

HostName choose_hostname(const std::optional<std::string>& configured, const std::optional<std::string>& fixture,
                         const std::optional<std::string>& libvirt) {
  if (configured && !configured->empty()) return {*configured, "config"};
  if (fixture && !fixture->empty()) return {*fixture, "fixture"};
  if (libvirt && !libvirt->empty()) return {*libvirt, "libvirt"};
  const std::string short_name = local_hostname();
  if (auto f = fqdn(short_name)) return {*f, "fqdn"};
  return {short_name, "hostname"};
}

}  // namespace gpu_agent
