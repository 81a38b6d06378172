#pragma once
// The name nova's compute node provider carries: nova uses libvirt's
// virConnectGetHostname() as the hypervisor hostname, so the agent does too.
#include <optional>
#include <string>

namespace gpu_agent {

struct HostName {
  std::string name;
  std::string source;  // config, fixture, libvirt, fqdn, hostname
};

// First of: an explicit name, the fixture's recorded one, libvirt's, the FQDN, gethostname().
HostName choose_hostname(const std::optional<std::string>& configured, const std::optional<std::string>& fixture,
                         const std::optional<std::string>& libvirt);

std::string local_hostname();  // gethostname(), or "localhost" if that fails

}  // namespace gpu_agent
