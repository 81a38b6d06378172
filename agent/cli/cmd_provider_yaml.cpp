// `gpu-agent nova-config --format provider-yaml`: nova's provider config with
// the agent's host traits, so nova owns them ([agent] host_traits_owner = nova),
// and the [vgpu:*] layouts' traits on nova's pGPU providers of this host.
#include <ostream>

#include "commands.h"
#include "cli_common.h"
#include "fixture.h"
#include "hostname.h"
#include "provider_yaml.h"
#include "vgpu.h"

namespace gpu_agent {

int nova_provider_yaml(const Args& a, const HostSources& src, const AgentConfig& cfg, std::ostream& out,
                       std::ostream& err) {
  const std::string cmd = "nova-config";
  ProviderYamlOptions opts;
  // No version: the file changes only when its content does, so an agent
  // upgrade never restarts nova (config management compares the bytes).
  opts.generator = "gpu-agent";
  size_t pgpu_layouts = 0;
  if (cfg.vgpu_layouts.empty()) {
    // The file is the same on every compute; the host only goes into its header,
    // so neither sysfs nor the GPUs are read.
    std::optional<std::string> fixture_host;
    if (auto f = value(a, "fixture")) {
      auto fx = load_fixture_file(*f);
      if (!fx) {
        err << "gpu-agent " << cmd << ": " << fx.error().message << "\n";
        return 1;
      }
      if (auto h = fx->meta.find("hostname"); h != fx->meta.end()) fixture_host = h->second;
    }
    opts.host = choose_hostname(value(a, "hostname") ? value(a, "hostname") : cfg.compute_node_name, fixture_host,
                                std::nullopt)
                    .name;
  } else {
    // vGPU layouts: their traits go on nova's pGPU providers, named after this
    // host's node name and each parent device, so the host is read.
    LoadOptions lo;
    lo.pools = false;
    auto host = load_host(src, cfg, lo);
    if (!host) return fail(err, cmd, host.error());
    opts.host = host->inventory.hostname;
    for (const auto& l : host->layouts) {
      if (l.kind != VgpuKind::mdev) {
        // vGPU 17 VFs are nova PCI devices: nova sets those providers' traits itself
        err << "gpu-agent " << cmd << ": note: [vgpu:" << l.name << "] " << l.short_name
            << " is a vGPU 17 type: its VFs are nova PCI devices, whose providers' traits nova replaces; "
               "nothing is written for it\n";
        continue;
      }
      ++pgpu_layouts;
      for (const auto& p : l.parents)
        opts.named_providers.push_back({nova_pgpu_provider_name(opts.host, p.address), l.traits,
                                        "[vgpu:" + l.name + "] " + l.short_name + " (" + l.type_id + ") on " +
                                            p.address.to_string() + " of GPU " + p.gpu.to_string()});
    }
  }
  auto yaml = make_provider_yaml(cfg.host_traits, opts);
  if (!yaml) {
    err << "gpu-agent " << cmd << ": " << yaml.error().message << "\n";
    return 2;
  }
  auto o = value(a, "output");
  if (!o || *o == "-") {
    out << *yaml;
    return 0;
  }
  if (!write_file_atomically(*o, *yaml, cmd, err)) return 1;  // nova-compute never reads half a file
  err << "wrote " << *o << " (" << cfg.host_traits.size() << " host trait(s) on $COMPUTE_NODE";
  if (!opts.named_providers.empty())
    err << ", the traits of " << pgpu_layouts << " vGPU layout(s) on " << opts.named_providers.size()
        << " pGPU provider(s)";
  err << ")";
  if (cfg.host_traits_owner != TraitsOwner::nova && !cfg.host_traits.empty())
    err << "; set [agent] host_traits_owner = nova so the agent stops writing them itself";
  err << "\n";
  return 0;
}

}  // namespace gpu_agent
