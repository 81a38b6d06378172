#include "tree_builder.h"

#include <cstdio>
#include <stdexcept>

#include "fixture.h"

namespace gpu_agent::testing {
namespace {

std::string hex(uint32_t v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x\n", width, v);
  return buf;
}

PciAddress must_parse(std::string_view addr) {
  auto a = parse_pci_address(addr);
  if (!a) throw std::invalid_argument("TreeBuilder: " + a.error().message);
  return *a;
}

}  // namespace

std::string offset_address(std::string_view addr, int devfn_offset) {
  PciAddress a = must_parse(addr);
  const int devfn = a.slot * 8 + a.function + devfn_offset;
  if (devfn < 0 || devfn > 255)
    throw std::invalid_argument("offset_address: " + std::string(addr) + " + " + std::to_string(devfn_offset) +
                                " leaves the bus");
  a.slot = static_cast<uint8_t>(devfn >> 3);
  a.function = static_cast<uint8_t>(devfn & 7);
  return a.to_string();
}

TreeBuilder::TreeBuilder(std::string hostname, std::string origin)
    : fs_(std::move(origin)), hostname_(std::move(hostname)) {
  fs_.add_dir("bus/pci/devices");
  fs_.add_dir("bus/pci/drivers");
  fs_.add_dir("kernel/iommu_groups");  // present and empty: IOMMU off, as on a real host
}

std::string TreeBuilder::canonical_addr(std::string_view addr) const { return must_parse(addr).to_string(); }

bool TreeBuilder::has_device(std::string_view addr) const { return paths_.count(canonical_addr(addr)) > 0; }

std::string TreeBuilder::dev_path(std::string_view addr) const {
  auto it = paths_.find(canonical_addr(addr));
  if (it == paths_.end()) throw std::invalid_argument("TreeBuilder: no device " + std::string(addr));
  return it->second;
}

std::string TreeBuilder::up_to_root(const std::string& from_dir) const {
  std::string up;
  for (std::string_view d = from_dir; !d.empty(); d = dir_name(d)) up += "../";
  return up;
}

TreeBuilder& TreeBuilder::add_function(std::string_view addr_in, uint32_t vendor, uint32_t device, const Fn& fn) {
  const std::string addr = canonical_addr(addr_in);
  if (paths_.count(addr)) throw std::invalid_argument("TreeBuilder: " + addr + " added twice");
  std::string path;
  if (fn.upstream.empty()) {
    const size_t colon = addr.rfind(':');  // "DDDD:BB" is the root bus
    path = "devices/pci" + addr.substr(0, colon) + "/" + addr;
  } else {
    path = dev_path(fn.upstream) + "/" + addr;
  }
  paths_[addr] = path;
  fs_.add_dir(path);
  fs_.add_file(path + "/vendor", hex(vendor, 4));
  fs_.add_file(path + "/device", hex(device, 4));
  fs_.add_file(path + "/class", hex(fn.class_code, 6));
  fs_.add_file(path + "/subsystem_vendor", hex(fn.subsystem_vendor.value_or(0), 4));
  fs_.add_file(path + "/subsystem_device", hex(fn.subsystem_device.value_or(0), 4));
  if (fn.revision) fs_.add_file(path + "/revision", hex(*fn.revision, 2));
  if (fn.numa_node) fs_.add_file(path + "/numa_node", std::to_string(*fn.numa_node) + "\n");
  const bool vga = (fn.class_code >> 8) == 0x0300;
  if (fn.boot_vga || vga) fs_.add_file(path + "/boot_vga", fn.boot_vga.value_or(false) ? "1\n" : "0\n");
  fs_.add_link("bus/pci/devices/" + addr, "../../../" + path);
  if (fn.driver_name) set_driver(addr, fn.driver_name);
  if (fn.iommu_group) set_group(addr, fn.iommu_group);
  return *this;
}

TreeBuilder& TreeBuilder::add_gpu(std::string_view addr, uint32_t vendor, uint32_t device, const Fn& fn) {
  return add_function(addr, vendor, device, fn);
}

TreeBuilder& TreeBuilder::add_bridge(std::string_view addr, uint32_t vendor, uint32_t device, Fn fn) {
  fn.class_code = 0x060400;
  if (!fn.driver_name) fn.driver_name = "pcieport";
  return add_function(addr, vendor, device, fn);
}

TreeBuilder& TreeBuilder::set_driver(std::string_view addr_in, std::optional<std::string> driver) {
  const std::string addr = canonical_addr(addr_in);
  const std::string path = dev_path(addr);
  if (auto old = fs_.read_link(path + "/driver"); old) {
    fs_.remove("bus/pci/drivers/" + std::string(base_name(*old)) + "/" + addr);
    fs_.remove(path + "/driver");
  }
  if (driver) {
    fs_.add_dir("bus/pci/drivers/" + *driver);
    fs_.add_link(path + "/driver", up_to_root(path) + "bus/pci/drivers/" + *driver);
    fs_.add_link("bus/pci/drivers/" + *driver + "/" + addr, "../../../../" + path);
  }
  return *this;
}

TreeBuilder& TreeBuilder::set_group(std::string_view addr_in, std::optional<int64_t> group) {
  const std::string addr = canonical_addr(addr_in);
  const std::string path = dev_path(addr);
  if (auto old = fs_.read_link(path + "/iommu_group"); old) {
    const std::string gdir = "kernel/iommu_groups/" + std::string(base_name(*old));
    fs_.remove(gdir + "/devices/" + addr);
    fs_.remove(path + "/iommu_group");
    if (auto left = fs_.list_dir(gdir + "/devices"); left && left->empty()) fs_.remove(gdir);  // as the kernel does
  }
  if (group) {
    const std::string g = std::to_string(*group);
    fs_.add_link(path + "/iommu_group", up_to_root(path) + "kernel/iommu_groups/" + g);
    fs_.add_link("kernel/iommu_groups/" + g + "/devices/" + addr, "../../../../" + path);
  }
  return *this;
}

TreeBuilder& TreeBuilder::clear_iommu_groups() {
  for (const auto& [addr, path] : paths_)
    if (fs_.is_link(path + "/iommu_group")) set_group(addr, std::nullopt);
  return *this;
}

TreeBuilder& TreeBuilder::set_attr(std::string_view addr, std::string_view name, std::string_view value) {
  return set_raw(addr, name, std::string(value) + "\n");
}

TreeBuilder& TreeBuilder::set_raw(std::string_view addr, std::string_view name, std::string content) {
  fs_.add_file(dev_path(addr) + "/" + std::string(name), std::move(content));
  return *this;
}

TreeBuilder& TreeBuilder::set_error(std::string_view addr, std::string_view name, int err) {
  fs_.add_error(dev_path(addr) + "/" + std::string(name), err);
  return *this;
}

TreeBuilder& TreeBuilder::set_link(std::string_view addr, std::string_view name, std::string target) {
  fs_.add_link(dev_path(addr) + "/" + std::string(name), std::move(target));
  return *this;
}

TreeBuilder& TreeBuilder::remove(std::string_view rel) {
  std::string path(rel);
  const size_t slash = rel.find('/');
  const std::string_view first = rel.substr(0, slash);
  if (parse_pci_address(first) && has_device(first))
    path = dev_path(first) + (slash == std::string_view::npos ? "" : std::string(rel.substr(slash)));
  if (!fs_.remove(path)) throw std::invalid_argument("TreeBuilder: cannot remove " + path + ": not there");
  return *this;
}

TreeBuilder& TreeBuilder::set_sriov(std::string_view pf, int64_t total, int64_t num) {
  set_attr(pf, "sriov_totalvfs", std::to_string(total));
  set_attr(pf, "sriov_numvfs", std::to_string(num));
  return *this;
}

std::vector<std::string> TreeBuilder::vfs_of(std::string_view pf) const {
  auto it = vfs_.find(canonical_addr(pf));
  return it == vfs_.end() ? std::vector<std::string>{} : it->second;
}

TreeBuilder& TreeBuilder::add_vfs(std::string_view pf_in, int n, const VfOptions& o) {
  const std::string pf = canonical_addr(pf_in);
  const std::string pf_path = dev_path(pf);
  auto read_hex = [&](const char* attr) -> uint32_t {
    auto raw = fs_.read_file(pf_path + "/" + attr);
    auto v = raw ? parse_hex(*raw, 6) : Result<uint32_t>(raw.error());
    if (!v) throw std::invalid_argument("TreeBuilder::add_vfs: " + pf + " has no readable " + attr);
    return *v;
  };
  const uint32_t vendor = read_hex("vendor"), device = read_hex("device");
  Fn vf;
  vf.class_code = read_hex("class");
  vf.subsystem_vendor = read_hex("subsystem_vendor");
  vf.subsystem_device = read_hex("subsystem_device");
  if (auto numa = fs_.read_file(pf_path + "/numa_node"); numa)
    if (auto v = parse_int(*numa); v) vf.numa_node = *v;
  vf.driver_name = o.driver;
  vf.boot_vga = std::nullopt;
  const std::string parent_dir(dir_name(pf_path));
  const bool on_root_bus = !parse_pci_address(base_name(parent_dir));  // "devices/pci0000:41"

  set_sriov(pf, o.total.value_or(n), n);
  set_attr(pf, "sriov_offset", std::to_string(o.first_offset));
  set_attr(pf, "sriov_stride", std::to_string(o.stride));
  set_attr(pf, "sriov_vf_device", [&] {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", o.device.value_or(device));
    return std::string(buf);
  }());
  auto& list = vfs_[pf];
  for (int i = 0; i < n; ++i) {
    const std::string va = offset_address(pf, o.first_offset + i * o.stride);
    Fn f = vf;
    f.upstream = on_root_bus ? std::string() : std::string(base_name(parent_dir));
    f.iommu_group = o.first_group ? std::optional<int64_t>(*o.first_group + i) : std::nullopt;
    add_function(va, vendor, o.device.value_or(device), f);
    fs_.add_link(pf_path + "/virtfn" + std::to_string(i), "../" + va);
    fs_.add_link(dev_path(va) + "/physfn", "../" + pf);
    list.push_back(va);
  }
  return *this;
}

TreeBuilder& TreeBuilder::add_mdev_types(std::string_view parent, const std::vector<MdevTypeSpec>& types) {
  const std::string base = dev_path(parent) + "/mdev_supported_types/";
  for (const auto& t : types) {
    const std::string d = base + t.id;
    fs_.add_file(d + "/name", t.name + "\n");
    fs_.add_file(d + "/description", t.description + "\n");
    fs_.add_file(d + "/available_instances", std::to_string(t.available) + "\n");
    fs_.add_file(d + "/device_api", t.device_api + "\n");
    fs_.add_dir(d + "/devices");
  }
  return *this;
}

TreeBuilder& TreeBuilder::set_available(std::string_view parent, std::string_view type, int64_t n) {
  const std::string f = dev_path(parent) + "/mdev_supported_types/" + std::string(type) + "/available_instances";
  if (!fs_.read_file(f)) throw std::invalid_argument("TreeBuilder: no mdev type " + std::string(type));
  fs_.add_file(f, std::to_string(n) + "\n");
  return *this;
}

TreeBuilder& TreeBuilder::add_mdev(std::string_view parent, std::string_view type_in, std::string_view uuid_in) {
  const std::string p = dev_path(parent), type(type_in), uuid(uuid_in);
  const std::string type_dir = p + "/mdev_supported_types/" + type;
  if (!fs_.list_dir(type_dir)) throw std::invalid_argument("TreeBuilder: no mdev type " + type + " on " + p);
  const std::string dir = p + "/" + uuid;
  fs_.add_dir(dir);
  fs_.add_link(dir + "/mdev_type", "../mdev_supported_types/" + type);
  fs_.add_link(type_dir + "/devices/" + uuid, "../../../" + uuid);
  fs_.add_link("bus/mdev/devices/" + uuid, "../../../" + dir);
  return *this;
}

TreeBuilder& TreeBuilder::add_vendor_vgpu(std::string_view fn, const std::vector<VgpuTypeEntry>& creatable,
                                          int64_t current) {
  std::string text = "ID    : vGPU Name\n";
  for (const auto& t : creatable) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%-6lld: ", static_cast<long long>(t.id));
    text += buf + t.name + "\n";
  }
  const std::string d = dev_path(fn) + "/nvidia";
  fs_.add_file(d + "/creatable_vgpu_types", std::move(text));
  fs_.add_file(d + "/current_vgpu_type", std::to_string(current) + "\n");
  return *this;
}

std::string TreeBuilder::fixture_text() const { return format_fixture(fs_, {{"hostname", hostname_}}); }

}  // namespace gpu_agent::testing
