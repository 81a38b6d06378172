#include "load_host.h"

#include "fixture.h"
#include "fs.h"
#include "inventory.h"
#include "libvirt_check.h"

namespace gpu_agent {
namespace {

struct HostTree {
  std::unique_ptr<Fs> fs;
  std::optional<std::string> fixture_host;  // the hostname a capture recorded
};

Result<HostTree> open_tree(const HostSources& src, const AgentConfig& cfg) {
  HostTree t;
  if (src.fixture) {
    auto fx = load_fixture_file(*src.fixture);
    if (!fx) return fx.error();
    if (auto h = fx->meta.find("hostname"); h != fx->meta.end()) t.fixture_host = h->second;
    t.fs = std::move(fx->fs);
  } else {
    t.fs = std::make_unique<RealFs>(src.sysfs_root.value_or(cfg.sysfs_root));
  }
  return t;
}

// pci.ids is ~1.3 MB of text: a cached PciNames is kept while it reads the same file.
const PciNames& names_for(const std::string& path, HostCache& cache) {
  if (!cache.names || cache.names->path() != path) cache.names = std::make_unique<PciNames>(path);
  return *cache.names;
}

// libvirt's view: the cross-check into the inventory, and its hostname.
std::optional<std::string> ask_libvirt(const std::string& uri, bool cross_check, Inventory& inv) {
  auto snap = read_libvirt(uri);
  if (!cross_check) {
    if (!snap) {
      inv.warnings.push_back(snap.error().message + "; using this host's own name for the compute node");
      return std::nullopt;
    }
    return snap->hostname;
  }
  LibvirtReport rep;
  rep.uri = uri;
  std::optional<std::string> host;
  if (!snap) {
    rep.error = snap.error().message;
  } else {
    rep.connected = true;
    rep.hostname = snap->hostname;
    host = snap->hostname;
    rep.disagreements = compare_with_libvirt(inv, snap->devices, &rep.devices_compared);
  }
  inv.libvirt = std::move(rep);
  return host;
}

}  // namespace

std::string libvirt_uri_for(const HostSources& src, const AgentConfig& cfg) {
  if (src.libvirt_uri) return *src.libvirt_uri;
  return src.fixture || src.sysfs_root ? "none" : cfg.libvirt_uri;
}

Result<LoadedHost> load_host(const HostSources& src, const AgentConfig& cfg, const LoadOptions& options,
                             HostCache* cache) {
  HostCache local;
  HostCache& c = cache ? *cache : local;
  auto tree = open_tree(src, cfg);
  if (!tree) return tree.error();
  const PciNames& names = names_for(src.pci_ids.value_or(cfg.pci_ids), c);
  InventoryOptions io;
  io.names = &names;
  auto inv = read_inventory(*tree->fs, io);
  if (!inv) return inv.error();
  if (names.error()) inv->warnings.push_back(*names.error());

  // nova's hypervisor hostname does not change while it runs: libvirt is asked
  // once per cache (per configuration), unless a name is given.
  const std::optional<std::string> named = src.hostname ? src.hostname : cfg.compute_node_name;
  const std::string uri = libvirt_uri_for(src, cfg);
  if (!c.host || options.cross_check_libvirt) {
    std::optional<std::string> libvirt_host;
    if (uri != "none" && (options.cross_check_libvirt || !named))
      libvirt_host = ask_libvirt(uri, options.cross_check_libvirt, *inv);
    c.host = choose_hostname(named, tree->fixture_host, libvirt_host);
  }
  inv->hostname = c.host->name;
  inv->hostname_source = c.host->source;

  LoadedHost out;
  out.real_host = !src.fixture && !src.sysfs_root;
  if (options.pools) {
    auto pools = derive_pools(*inv, cfg);
    if (!pools) return make_error(ErrorKind::bad_config, pools.error().message);
    out.pools = std::move(*pools);
  }
  if (options.layouts) {
    auto layouts = resolve_vgpu_layouts(*inv, cfg);
    if (!layouts) return make_error(ErrorKind::bad_config, layouts.error().message);
    out.layouts = std::move(*layouts);
  }
  out.inventory = std::move(*inv);
  return out;
}

}  // namespace gpu_agent
