// gpu-agent nova-config: nova.conf's [pci] (and vGPU [devices]/[mdev_*]) for
// this host's pools and layouts, or nova's provider config (cmd_provider_yaml.cpp).
#include <ostream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "nova_config.h"

namespace gpu_agent {

namespace {

const char* const kHelpTemplate = R"(Usage: gpu-agent [--config FILE] nova-config [OPTIONS]

Write the nova.conf [pci] lines that give this host's GPU pools to guests, as an
INI snippet for /etc/nova/nova.conf.d/:
  device_spec (passthrough_whitelist before Zed), on nova-compute: exactly the
      assignable GPUs of each pool, by vendor:product when that matches no other
      device of the host, else one entry per address; plus the other functions of
      each GPU's card in its IOMMU group (HDMI audio), which go to the guest too
  alias, on nova-api and every compute: one name per pool (the pool key in lower
      case), for flavors' pci_passthrough:alias=NAME:N
  and, for the scheduler, a note: [filter_scheduler] enabled_filters needs
      PciPassthroughFilter (not set here: that list would replace yours)
Pools are the ones `report` sends to placement (one per GPU model, or [pool:*]
sections of the agent's config). GPUs that are not assignable now are left out,
with a note; a host with none is an error that lists why for each GPU.
vGPU ([vgpu:NAME] layouts in the agent's config), for nova-compute:
  [devices] enabled_mdev_types (enabled_vgpu_types before Xena) and one
      [mdev_<type>] group per layout: device_addresses = the parents nova creates
      the vGPUs on (the SR-IOV VFs of A40/A100-class GPUs, else the GPU),
      mdev_class (Xena+), max_instances (2023.2+); vGPU 17 VFs (no mdev bus) as
      device_spec "managed": "no" from 2025.1, a note before

Options:
  --nova-release R     the nova release to write for: a name (zed, 2025.1,
                       2026.2), code name (epoxy) or nova major (31); default
                       [agent] nova_release, else the installed nova's release
                       (python3-nova's version), else the newest. The header
                       says which and why. Releases, and what each introduced:
%RELEASES%
  --numa-policy P      the aliases' numa_policy (default preferred: an 8x flavor
                       may span both sockets; required/legacy/socket are stricter)
  --role ROLE          compute (device_spec + alias), api (alias + scheduler
                       note) or all (default)
  --format FMT         ini (default), json, or provider-yaml: nova's provider
                       config (/etc/nova/provider_config/gpu-agent.yaml) putting
                       [agent] host_traits on $COMPUTE_NODE and the vGPU layouts'
                       traits on nova's pGPU providers, for when nova owns them
                       ([agent] host_traits_owner = nova)
  -o, --output FILE    write FILE (atomically: all of it or nothing) instead of stdout
  --fixture, --sysfs-root, --pci-ids, --libvirt-uri, --hostname: where the
                       host is read from (below); the host is named in the header

Examples:
  gpu-agent nova-config --role compute -o /etc/nova/nova.conf.d/50-gpu-agent-pci.conf
  gpu-agent nova-config --role api --nova-release 2023.1
  gpu-agent nova-config --fixture a100.sysfs.txt --format json | jq -r '.aliases[].value'
  gpu-agent nova-config --format provider-yaml -o /etc/nova/provider_config/gpu-agent.yaml

Exit codes: 0 written, 1 no assignable GPU or a read/write failure, 2 bad usage or config.
)";

// The template with the release table (nova_release.cpp) in place of %RELEASES%.
std::string help_text() {
  std::string help = kHelpTemplate;
  help.replace(help.find("%RELEASES%\n"), 11, nova_release_help(std::string(23, ' ')));
  return help;
}
const std::string kHelpText = help_text();

}  // namespace

const char* const kNovaConfigHelp = kHelpText.c_str();

int cmd_nova_config(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                    std::ostream& out, std::ostream& err) {
  const std::string cmd = "nova-config";
  Args a;
  auto aliases = kHostSourceAliases;
  aliases["-o"] = "--output";
  if (auto e = parse_args(argv, 1, with_host_options({"nova-release", "numa-policy", "role", "format", "output"}), {},
                          aliases, a))
    return usage_error(err, cmd, *e);
  if (a.help) return show_help(out, kNovaConfigHelp, true);
  auto src = host_sources(a);
  if (!src) return usage_error(err, cmd, src.error().message);
  auto role = parse_nova_role(value(a, "role").value_or("all"));
  if (!role) return usage_error(err, cmd, role.error().message);
  enum class Format { ini, json, provider_yaml };
  auto format = choose<Format>(
      a, "format", {{"ini", Format::ini}, {"json", Format::json}, {"provider-yaml", Format::provider_yaml}});
  if (!format) return usage_error(err, cmd, format.error().message);
  NovaConfigOptions opts;

  opts.numa_policy = value(a, "numa-policy").value_or(opts.numa_policy);
  // No version: the file changes only when its content does, so an agent
  // upgrade never restarts nova (config management compares the bytes).
  opts.generator = "gpu-agent";
  auto cfg = load_config_for(config_path);
  if (!cfg) {
    err << "gpu-agent " << cmd << ": " << cfg.error().message << "\n";
    return 2;
  }
  auto release = nova_release_for(a, *cfg);
  if (!release) return usage_error(err, cmd, release.error().message);
  opts.release = release->release;
  opts.release_source = release->source;
  if (*format == Format::provider_yaml) return nova_provider_yaml(a, *src, *cfg, out, err);

  auto host = load_host(*src, *cfg);
  if (!host) return fail(err, cmd, host.error());
  const auto& pools = host->pools;
  const auto& layouts = host->layouts;
  auto nova = make_nova_config(host->inventory, pools, opts, layouts);
  if (!nova) {
    err << "gpu-agent " << cmd << ": " << nova.error().message << "\n";
    bool any_assignable = false;  // none: a host problem (exit 1); else the pools or options are wrong (2)
    for (const auto& p : pools) any_assignable |= !p.assignable.empty();
    any_assignable |= !layouts.empty();
    return any_assignable ? 2 : 1;
  }
  const std::string text = *format == Format::json ? nova_config_to_json(*nova, *role)
                                                   : nova_config_to_ini(*nova, *role);
  auto o = value(a, "output");
  if (!o || *o == "-") {
    out << text;
    return 0;
  }
  if (!write_file_atomically(*o, text, cmd, err)) return 1;  // nova never reads half a snippet
  err << "wrote " << *o << " (" << nova->device_specs.size() << " " << nova->device_spec_option << ", "
      << nova->aliases.size() << " alias lines, nova " << describe(*release) << ")\n";
  return 0;
}

}  // namespace gpu_agent
