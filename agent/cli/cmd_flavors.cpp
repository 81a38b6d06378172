// gpu-agent flavors: the 1x/2x/4x/8x flavor family of this host's GPU pools.
#include <algorithm>
#include <ostream>

#include "commands.h"
#include "cli_common.h"
#include "config.h"
#include "flavors.h"
#include "log.h"
#include "nova_config.h"
#include "parse.h"
#include "report.h"
#include "vgpu.h"

namespace gpu_agent {

const char* const kFlavorsHelp = R"(Usage: gpu-agent [--config FILE] flavors [OPTIONS]

Make the 1x/2x/4x/8x GPU flavor family for this host's pools, ready to create:
each flavor asks placement for N GPUs of its pool in one request group
(resources:CUSTOM_PGPU_...=N), requires the host traits ([agent] host_traits,
the pool's traits, [flavors] required_traits) as trait:...=required, and names
the pool's nova alias for the PCI claim (pci_passthrough:alias=ALIAS:N, the
alias `gpu-agent nova-config` writes).

vCPU, RAM and ephemeral disk per GPU come from [flavors] in the agent's config,
or, when not set there, from the compute node's inventory in placement
(--from-placement): (total - reserved) * allocation_ratio divided among the
host's GPUs, with the whole-host flavor taking all of it. Sizes are checked
against the pool's GPUs on this host and, with --from-placement, against what
placement offers one server.

Options:
  --format FMT         script (default): an idempotent bash script of `openstack`
                       commands, traits first; json; ansible: variables for
                       openstack.cloud.trait and openstack.cloud.compute_flavor
  -o, --output FILE    write FILE (atomically) instead of stdout
  --from-placement     derive unset per-GPU shares from placement (uses
                       [placement] of the agent's config, or --nova-config)
  --nova-config FILE   reuse nova.conf's [placement] credentials
  --sizes LIST         GPUs per flavor, like 1,2,4,8 (default: [flavors] sizes,
                       else powers of two up to the pool's GPUs)
  --vcpus-per-gpu N, --ram-mb-per-gpu N, --ephemeral-gb-per-gpu N, --disk-gb N
                       override [flavors] (disk is the root disk of every flavor)
  --name-template T    default v.{pool}-{n}x.c{vcpus}g{ram_gib}-{n}i; fields:
                       {pool} {n} {vcpus} {ram_gib} {ram_mb} {disk_gb}
                       {ephemeral_gb} {rc} {alias}
  --pool LIST          only these pools or [vgpu:NAME] layouts

vGPU: each [vgpu:NAME] layout gets one flavor for one vGPU: resources:VGPU=1
(or the layout's mdev_class), trait:CUSTOM_VGPU_<TYPE>=required (the agent puts
it on nova's pGPU providers of that type) and the layout's traits; flavor_vcpus,
flavor_ram_mb, flavor_disk_gb in the layout (default 4, 16384, 0); names from
[flavors] vgpu_name_template (default v.vgpu-{type}.c{vcpus}g{ram_gib}).
  --no-pci-alias       leave out pci_passthrough:alias (when nova's [pci] is not
                       configured for these GPUs)
  --fixture, --sysfs-root, --pci-ids, --libvirt-uri, --hostname: where the
                       host is read from (below)

The seed family (10 vCPU, 100 GiB, 800 GB ephemeral per GPU; 6500 GB on 8x):
  [pool:xxxgn3i]            [flavors]                   [flavors:8x]
  match = 10de:20b2         vcpus_per_gpu = 10          ephemeral_gb = 6500
                            ram_mb_per_gpu = 102400
                            ephemeral_gb_per_gpu = 800
gives v.xxxgn3i-1x.c10g100-1i ... v.xxxgn3i-8x.c80g800-8i.

Examples:
  gpu-agent flavors -o create-gpu-flavors.sh && bash create-gpu-flavors.sh
  gpu-agent flavors --from-placement --format json
  gpu-agent flavors --format ansible -o group_vars/all/gpu_flavors.yml

Exit codes: 0 written, 1 the host or placement cannot be read, 2 bad usage,
config or sizes (the message says what to change).
)";

namespace {

// [flavors] of the config with the command line's overrides; a usage error's text otherwise.
Result<flavors::FlavorSettings> settings_from(const Args& a, flavors::FlavorSettings settings) {
  auto usage = [](std::string m) { return make_error(ErrorKind::bad_config, std::move(m)); };
  if (auto v = value(a, "sizes")) {
    settings.sizes.clear();
    for (const auto& n : split_list(*v)) {
      auto k = parse_int(n);
      if (!k || *k < 1 || *k > 64) return usage("--sizes: '" + n + "' is not a GPU count from 1 to 64");
      settings.sizes.push_back(static_cast<int>(*k));
    }
    if (settings.sizes.empty()) return usage("--sizes lists no size; like --sizes 1,2,4,8");
  }
  struct NumOpt {
    const char* name;
    std::optional<int64_t>* target;
    int64_t min;
  };
  std::optional<int64_t> disk;
  const NumOpt nums[] = {{"vcpus-per-gpu", &settings.vcpus_per_gpu, 1},
                         {"ram-mb-per-gpu", &settings.ram_mb_per_gpu, 1},
                         {"ephemeral-gb-per-gpu", &settings.ephemeral_gb_per_gpu, 0},
                         {"disk-gb", &disk, 0}};
  for (const auto& n : nums) {
    if (auto v = value(a, n.name)) {
      auto k = parse_int(*v);
      if (!k || *k < n.min)
        return usage(std::string("--") + n.name + " needs a whole number of at least " + std::to_string(n.min));
      *n.target = *k;
    }
  }
  if (disk) settings.disk_gb = *disk;
  if (auto t = value(a, "name-template")) {
    if (t->find("{n}") == std::string::npos)
      return usage("--name-template needs {n} (the GPU count), or every size gets the same name");
    settings.name_template = *t;
  }
  if (a.flags.count("no-pci-alias")) settings.pci_alias = false;
  return settings;
}

bool wanted(const std::vector<std::string>& only, const std::string& key) {
  return only.empty() || std::find(only.begin(), only.end(), key) != only.end();
}

// --pool names only pools and layouts this host has; the problem otherwise.
std::optional<std::string> unknown_pool(const LoadedHost& host, const AgentConfig& cfg,
                                        const std::vector<std::string>& only) {
  for (const auto& key : only) {
    bool found = false;
    for (const auto& p : host.pools) found |= p.key == key;
    for (const auto& l : cfg.vgpu_layouts) found |= l.name == key;
    if (found) continue;
    std::string known;
    for (const auto& p : host.pools) known += (known.empty() ? "" : ", ") + p.key;
    return "--pool " + key + ": no such pool on " + host.inventory.hostname +
           " (pools: " + (known.empty() ? "none" : known) + ")";
  }
  return std::nullopt;
}

// The pools and layouts the flavors are made for (--pool narrows them).
Result<flavors::Inputs> inputs_from(const LoadedHost& host, const AgentConfig& cfg,
                                    const std::vector<std::string>& only) {
  flavors::Inputs in;
  in.host = host.inventory.hostname;
  in.generator = std::string("gpu-agent ") + kAgentVersion;
  in.host_traits = cfg.host_traits;
  for (const auto& p : host.pools) {
    if ((p.assignable.empty() && p.unavailable.empty()) || !wanted(only, p.key)) continue;
    flavors::PoolInput pi;
    pi.key = p.key;
    pi.resource_class = p.resource_class;
    pi.alias = nova_alias_name(p.key);
    pi.gpus = static_cast<int>(p.assignable.size());
    // a default pool's descriptive traits say what its resource class already says
    if (p.configured) pi.traits = p.traits;
    in.pools.push_back(std::move(pi));
  }
  for (const auto& l : host.layouts) {
    if (!wanted(only, l.name)) continue;
    flavors::VgpuInput v;
    v.layout = l.name;
    v.type = l.short_name;
    v.resource_class = l.resource_class;
    // the type's own trait tells an A40-24Q from an A40-8Q; the layout's traits its tenants
    v.traits.push_back(vgpu_type_trait(l.short_name));
    for (const auto& lc : cfg.vgpu_layouts)
      if (lc.name == l.name) v.traits.insert(v.traits.end(), lc.traits.begin(), lc.traits.end());
    v.vcpus = l.flavor_vcpus.value_or(v.vcpus);
    v.ram_mb = l.flavor_ram_mb.value_or(v.ram_mb);
    v.disk_gb = l.flavor_disk_gb.value_or(v.disk_gb);
    in.vgpus.push_back(std::move(v));
  }
  if (in.pools.empty() && in.vgpus.empty())
    return make_error(ErrorKind::bad_config,
                      "no GPU pool and no [vgpu:*] layout on " + in.host +
                          ": `gpu-agent inventory` says why each GPU is not assignable; vGPU GPUs need a "
                          "[vgpu:NAME] layout");
  return in;
}

// What placement says the compute node can give (its root provider's inventory).
Result<flavors::HostCapacity> capacity_from_placement(const AgentConfig& cfg, const Args& a, const std::string& host,
                                                      std::ostream& err) {
  auto placement = effective_placement(cfg, value(a, "nova-config"));
  if (!placement) return make_error(ErrorKind::bad_config, placement.error().message);
  AgentConfig c = cfg;
  c.placement = *placement;
  Log log(err, a.flags.count("verbose") ? Log::Level::debug : Log::Level::warning);
  Reporter reporter(c, ReportSources{}, log);
  auto root = reporter.root_inventory(host);
  if (!root) return root.error();
  flavors::HostCapacity cap;
  cap.host = host;
  auto take = [&](const char* rc) -> std::optional<flavors::Capacity> {
    auto it = root->find(rc);
    if (it == root->end()) return std::nullopt;
    return flavors::Capacity{it->second.total, it->second.reserved, it->second.max_unit, it->second.allocation_ratio};
  };
  cap.vcpu = take("VCPU");
  cap.memory_mb = take("MEMORY_MB");
  cap.disk_gb = take("DISK_GB");
  return cap;
}

}  // namespace

int cmd_flavors(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
                std::ostream& err) {
  const std::string cmd = "flavors";
  Args a;
  auto aliases = kHostSourceAliases;
  aliases["-o"] = "--output";
  aliases["-v"] = "--verbose";
  if (auto e = parse_args(
          argv, 1,
          with_host_options({"format", "output", "nova-config", "sizes", "vcpus-per-gpu", "ram-mb-per-gpu",
                             "ephemeral-gb-per-gpu", "disk-gb", "name-template", "pool"}),
          {"from-placement", "no-pci-alias", "verbose"}, aliases, a))
    return usage_error(err, cmd, *e);
  if (a.help) return show_help(out, kFlavorsHelp, true);
  auto src = host_sources(a);
  if (!src) return usage_error(err, cmd, src.error().message);
  enum class Format { script, json, ansible };
  auto format = choose<Format>(a, "format",
                               {{"script", Format::script}, {"json", Format::json}, {"ansible", Format::ansible}});
  if (!format) return usage_error(err, cmd, format.error().message);

  auto cfg = load_config_for(config_path);
  if (!cfg) return fail(err, cmd, cfg.error());
  auto settings = settings_from(a, cfg->flavors);
  if (!settings) return usage_error(err, cmd, settings.error().message);
  auto host = load_host(*src, *cfg);
  if (!host) return fail(err, cmd, host.error());
  const auto only = value(a, "pool") ? split_list(*value(a, "pool")) : std::vector<std::string>{};
  if (auto bad = unknown_pool(*host, *cfg, only)) return usage_error(err, cmd, *bad);
  auto in = inputs_from(*host, *cfg, only);
  if (!in) return fail(err, cmd, in.error());
  if (a.flags.count("from-placement") && !in->pools.empty()) {
    auto cap = capacity_from_placement(*cfg, a, in->host, err);
    if (!cap) return fail(err, cmd, cap.error());
    in->capacity = *cap;
  }
  auto set = flavors::make_flavors(*in, *settings);
  if (!set) return fail(err, cmd, make_error(ErrorKind::bad_config, set.error().message));
  const std::string text = *format == Format::json      ? flavors::to_json(*set)
                           : *format == Format::ansible ? flavors::to_ansible_vars(*set)
                                                        : flavors::to_openstack_script(*set);
  auto o = value(a, "output");
  if (!o || *o == "-") {
    out << text;
    return 0;
  }
  if (!write_file_atomically(*o, text, cmd, err)) return 1;
  err << "wrote " << *o << " (" << set->flavors.size() << " flavors, " << set->traits.size() << " traits, "
      << value(a, "format").value_or("script") << ")\n";
  return 0;
}

}  // namespace gpu_agent
