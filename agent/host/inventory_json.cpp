#include "inventory_json.h"

#include <optional>
#include <string>

#include "json.h"

namespace gpu_agent {
namespace {

// Strings go out as JsonWriter's policy has it: sysfs can hold any bytes (a
// garbage file is quoted in a message as it is), and a byte that is not part
// of valid UTF-8 becomes U+FFFD.

void hex_or_null(JsonWriter& w, const char* k, const std::optional<uint32_t>& v, int width) {
  w.key(k).string_or_null(v ? std::optional<std::string>(to_hex(*v, width)) : std::nullopt);
}

void write_problem(JsonWriter& w, const Problem& p) {
  w.begin_object();
  w.key("code").string(p.code);
  w.key("message").string(p.message);
  w.key("fix").string(p.fix);
  w.key("blocking").boolean(p.blocking);
  w.end_object();
}

void write_mdev(JsonWriter& w, const MdevInstance& m) {
  w.begin_object();
  w.key("uuid").string(m.uuid);
  w.key("type").string(m.type_id);
  w.key("parent").string(m.parent.to_string());
  w.end_object();
}

void write_gpu(JsonWriter& w, const Gpu& g) {
  w.begin_object();
  w.key("address").string(g.address.to_string());
  hex_or_null(w, "vendor_id", g.vendor_id, 4);
  hex_or_null(w, "product_id", g.product_id, 4);
  hex_or_null(w, "subsystem_vendor_id", g.subsystem_vendor_id, 4);
  hex_or_null(w, "subsystem_device_id", g.subsystem_device_id, 4);
  w.key("vendor_name").string_or_null(g.vendor_name);
  w.key("product_name").string_or_null(g.product_name);
  w.key("class").string(to_hex(g.class_code, 6));
  hex_or_null(w, "revision", g.revision, 2);
  w.key("numa_node").integer(g.numa_node);
  w.key("driver").string_or_null(g.driver);
  w.key("iommu_group").integer_or_null(g.iommu_group);
  w.key("iommu_group_members").begin_array();
  for (const auto& m : g.group_members) w.string(m.address.to_string());
  w.end_array();
  w.key("iommu_group_member_details").begin_array();
  for (const auto& m : g.group_members) {
    w.begin_object();
    w.key("address").string(m.address.to_string());
    hex_or_null(w, "class", m.class_code, 6);
    hex_or_null(w, "vendor_id", m.vendor_id, 4);
    hex_or_null(w, "product_id", m.product_id, 4);
    w.key("driver").string_or_null(m.driver);
    w.key("same_card").boolean(m.same_card);
    w.key("management").boolean(m.management);
    w.key("companion").string_or_null(m.companion.empty() ? std::nullopt : std::optional<std::string>(m.companion));
    w.end_object();
  }
  w.end_array();
  w.key("boot_vga").boolean(g.boot_vga);
  w.key("physfn").string_or_null(g.physfn ? std::optional<std::string>(g.physfn->to_string()) : std::nullopt);
  w.key("role").string(to_string(g.role));
  w.key("role_reason").string(g.role_reason);
  w.key("assignable").boolean(g.assignable);
  w.key("mode").string(to_string(g.mode));
  w.key("reasons").begin_array();
  for (const auto& p : g.problems)
    if (p.blocking) w.string(p.message + "; fix: " + p.fix);
  w.end_array();
  w.key("problems").begin_array();
  for (const auto& p : g.problems) write_problem(w, p);
  w.end_array();
  w.key("sriov");
  if (!g.sriov) w.null();
  else {
    w.begin_object();
    w.key("total_vfs").integer(g.sriov->total_vfs);
    w.key("num_vfs").integer(g.sriov->num_vfs);
    w.key("vfs").begin_array();
    for (const auto& vf : g.sriov->vfs) w.string(vf.address.to_string());
    w.end_array();
    w.key("vf_details").begin_array();
    for (const auto& vf : g.sriov->vfs) {
      w.begin_object();
      w.key("address").string(vf.address.to_string());
      w.key("driver").string_or_null(vf.driver);
      w.key("iommu_group").integer_or_null(vf.iommu_group);
      w.key("current_vgpu_type").integer_or_null(vf.current_vgpu_type);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.key("mdev_types").begin_array();
  // Types come grouped by parent (22 per VF on an A40): format each parent once.
  std::optional<PciAddress> parent;
  std::string parent_text;
  for (const auto& t : g.mdev_types) {
    if (!parent || !(*parent == t.parent)) {
      parent = t.parent;
      parent_text = t.parent.to_string();
    }
    w.begin_object();
    w.key("id").string(t.id());
    w.key("name").string(t.name());
    w.key("device_api").string(t.device_api());
    w.key("available_instances").integer_or_null(t.available_instances);
    w.key("max_instances").integer_or_null(t.parsed().max_instance);
    w.key("framebuffer_mib").integer_or_null(t.parsed().framebuffer_mib);
    w.key("num_heads").integer_or_null(t.parsed().num_heads);
    w.key("frl_config").integer_or_null(t.parsed().frl_config);
    w.key("max_resolution").string_or_null(t.parsed().max_resolution);
    w.key("description").string(t.description());
    w.key("parent").string(parent_text);
    w.key("instances").strings(t.instances);
    w.end_object();
  }
  w.end_array();
  w.key("vgpu_types").begin_array();
  for (const auto& t : g.vgpu_types) {
    w.begin_object();
    w.key("id").integer(t.id);
    w.key("name").string(t.name);
    w.key("parent").string(t.parent.to_string());
    w.end_object();
  }
  w.end_array();
  w.key("mdevs").begin_array();
  for (const auto& m : g.mdevs) write_mdev(w, m);
  w.end_array();
  w.end_object();
}

// Room for the whole document, so the string never grows by copying: pages
// reserved but not written are never touched, so an estimate on the high side
// costs address space, not memory.
size_t size_estimate(const Inventory& inv) {
  size_t n = 64 * 1024 + 1024 * (inv.mdevs.size() + inv.warnings.size());
  for (const auto& g : inv.gpus) {
    n += 16 * 1024 + 1024 * (g.problems.size() + g.group_members.size() + g.vgpu_types.size() + g.mdevs.size());
    if (g.sriov) n += 512 * g.sriov->vfs.size();
    for (const auto& t : g.mdev_types)  // ~380 bytes of keys, indentation and numbers, then the strings
      n += 512 + t.id().size() + t.name().size() + t.description().size() + 64 * t.instances.size();
  }
  return n;
}

void write_document(JsonWriter& w, const Inventory& inv) {
  w.begin_object();
  w.key("schema_version").integer(kInventorySchemaVersion);
  w.key("hostname").string(inv.hostname);
  w.key("hostname_source").string(inv.hostname_source);
  w.key("source").string(inv.source);
  w.key("iommu_enabled").boolean(inv.iommu_enabled);
  w.key("gpus").begin_array();
  for (const auto& g : inv.gpus) write_gpu(w, g);
  w.end_array();
  w.key("mdevs").begin_array();
  for (const auto& m : inv.mdevs) write_mdev(w, m);
  w.end_array();
  w.key("warnings").strings(inv.warnings);
  w.key("nvswitches").begin_array();
  for (const auto& sw : inv.nvswitches) {
    w.begin_object();
    w.key("address").string(sw.address.to_string());
    w.key("vendor_id").string(to_hex(sw.vendor_id, 4));
    w.key("product_id").string(to_hex(sw.product_id, 4));
    w.key("driver").string_or_null(sw.driver);
    w.key("iommu_group").integer_or_null(sw.iommu_group);
    w.end_object();
  }
  w.end_array();
  w.key("driver_modules").begin_object();
  for (const auto& [d, m] : inv.driver_modules) w.key(d).string(m);
  w.end_object();
  w.key("libvirt");
  if (!inv.libvirt) w.null();
  else {
    const auto& l = *inv.libvirt;
    w.begin_object();
    w.key("uri").string(l.uri);
    w.key("connected").boolean(l.connected);
    w.key("error").string(l.error);
    w.key("hostname").string_or_null(l.hostname);
    w.key("devices_compared").integer(l.devices_compared);
    w.key("disagreements").strings(l.disagreements);
    w.end_object();
  }
  w.end_object();
}

}  // namespace

std::string inventory_to_json(const Inventory& inv) {
  JsonWriter w(JsonStyle::pretty, size_estimate(inv));
  write_document(w, inv);
  return w.finish();
}

void write_inventory_json(const Inventory& inv, std::ostream& out) {
  JsonWriter w(JsonStyle::pretty, out);
  write_document(w, inv);
  w.finish();
}

}  // namespace gpu_agent
