#pragma once
// The agent's configuration (/etc/gpu-agent/gpu-agent.conf). Its [placement]
// section takes nova.conf's keys, so `nova_config = /etc/nova/nova.conf` (or
// --nova-config) can reuse nova-compute's credentials instead. Everything is
// validated before anything is sent: a bad file is an error naming the file,
// line and key, and exit code 2.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ini.h"
#include "parse.h"
#include "flavors.h"
#include "result.h"

namespace gpu_agent {

struct PlacementSettings {
  std::string auth_type;  // password, v3password, v3applicationcredential, applicationcredential, admin_token, noauth
  std::string auth_url;
  std::string username, password, user_domain_name = "Default", user_domain_id;
  std::string project_name, project_domain_name = "Default", project_domain_id, project_id;
  std::string application_credential_id, application_credential_secret, application_credential_name;
  std::string token;  // admin_token
  std::string region_name;
  std::vector<std::string> valid_interfaces{"internal", "public"};
  std::string endpoint_override;
  std::string cafile;
  bool insecure = false;
  double timeout = 30;  // seconds, each step of a request
  std::string source;   // "FILE [placement]" for messages
};

struct PoolConfig {
  std::string name;                                  // [pool:NAME]
  std::string resource_class;                        // CUSTOM_...
  std::vector<std::pair<uint32_t, uint32_t>> match;  // vendor:product
  std::vector<PciAddress> addresses;
  std::vector<std::string> traits;
  int line = 0;
};

// [vgpu:NAME]: the vGPU type the selected GPUs are cut into (issue: vGPU layouts).
struct VgpuLayoutConfig {
  std::string name;                                  // [vgpu:NAME]
  std::vector<std::pair<uint32_t, uint32_t>> match;  // vendor:product
  std::vector<PciAddress> addresses;                 // the GPUs (PFs)
  bool all = false;                                  // every vGPU-capable GPU
  std::string type;                                  // "A40-24Q", "NVIDIA A40-24Q", "nvidia-565" or a vGPU 17 id "1052"
  std::optional<std::string> mdev_class;             // VGPU (default) or CUSTOM_*: the resource class nova reports
  std::vector<std::string> traits;                   // added to nova's pGPU providers of these GPUs
  std::optional<int64_t> flavor_vcpus, flavor_ram_mb, flavor_disk_gb;  // its vGPU flavor
  int line = 0;
};

// Who puts [agent] host_traits on the compute node provider.
enum class TraitsOwner {
  agent,  // the report pass
  nova,   // nova's provider config (`nova-config --format provider-yaml`)
};

struct AgentConfig {
  std::string path;  // empty when built-in defaults are used
  std::optional<std::string> compute_node_name;
  std::string sysfs_root = "/sys";
  std::string pci_ids;
  std::string libvirt_uri = "qemu:///system";
  std::string state_dir = "/var/lib/gpu-agent";
  double interval = 60, jitter = 0.1;  // seconds; jitter as a fraction of interval
  double retry_min = 1, retry_max = 60;
  // Window of the random delay before the daemon's first pass, seconds; unset
  // = auto (under systemd one interval, two on a first deployment, else none:
  // resolve_splay in daemon.h).
  std::optional<double> splay;
  // Observability: Prometheus text written after every pass ("" = none), and
  // how old pool usages may get before a steady-state pass reads them again
  // (seconds; 0 = only when the tree is read in full).
  std::string metrics_file;
  std::string metrics_listen;  // "127.0.0.1:PORT": GET /metrics on loopback; "" = none
  double usage_refresh = 300;
  bool default_pools = true;             // one pool per vendor/product for GPUs no [pool:*] claims
  std::vector<std::string> host_traits;  // on the compute node (root) provider
  // Who puts host_traits on the compute node: "agent" (the reporter) or "nova"
  // (its provider config, `nova-config --format provider-yaml`); flavors require them either way.
  TraitsOwner host_traits_owner = TraitsOwner::agent;
  std::string marker_trait = "CUSTOM_GPU_AGENT_MANAGED";
  std::vector<PoolConfig> pools;
  std::vector<VgpuLayoutConfig> vgpu_layouts;
  PlacementSettings placement;
  std::string nova_config;  // reuse [placement] from this nova.conf
  // nova's compute node identity file (nova 2023.1+, under its [DEFAULT]
  // state_path): the compute node provider's UUID, checked against Placement;
  // "" = always look the compute node up by name.
  std::string nova_compute_id = "/var/lib/nova/compute_id";
  std::string nova_release;         // nova-config/doctor's target release ("" = the installed nova, else the newest)
  flavors::FlavorSettings flavors;  // [flavors] and [flavors:Nx]
};

// "a, b,c" or one per line -> {"a", "b", "c"}: oslo's list options.
std::vector<std::string> split_list(const std::string& v);

// "CUSTOM_[A-Z0-9_]+", at most 255 characters; the error says which rule failed.
Result<bool> check_custom_name(const std::string& name, const std::string& what);

Result<AgentConfig> parse_agent_config(const IniFile& ini);
Result<AgentConfig> load_agent_config(const std::string& path);
// [placement] of a nova.conf, keys as keystoneauth names them.
Result<PlacementSettings> placement_from_ini(const IniFile& ini, bool strict);

}  // namespace gpu_agent
