#include "inventory_json.h"

#include <rapidjson/prettywriter.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpu_agent {
namespace {

// rapidjson output into the std::string that is returned, through a small
// chunk buffer: no whole-document StringBuffer to copy from (an 8-GPU A40
// host's JSON is 2.8 MB), and no per-character growth check.
class StringOut {
 public:
  using Ch = char;
  explicit StringOut(std::string& s) : s_(s), buf_(64 * 1024), p_(buf_.data()) {}
  void Reserve(size_t n) {
    if (static_cast<size_t>(buf_.data() + buf_.size() - p_) >= n) return;
    Flush();
    if (n > buf_.size()) {
      buf_.resize(n);
      p_ = buf_.data();
    }
  }
  void PutUnsafe(char c) { *p_++ = c; }
  void Put(char c) {
    Reserve(1);
    *p_++ = c;
  }
  void Flush() {
    s_.append(buf_.data(), p_);
    p_ = buf_.data();
  }

 private:
  std::string& s_;
  std::vector<char> buf_;
  char* p_;
};

}  // namespace
}  // namespace gpu_agent

namespace rapidjson {
template <>
inline void PutReserve(gpu_agent::StringOut& s, size_t count) { s.Reserve(count); }
template <>
inline void PutUnsafe(gpu_agent::StringOut& s, char c) { s.PutUnsafe(c); }
}  // namespace rapidjson

namespace gpu_agent {
namespace {

using Writer = rapidjson::PrettyWriter<StringOut>;

// Every string goes through here: sysfs can hold any bytes (a garbage file is
// quoted in a message as it is), and JSON must be UTF-8, so a byte that is not
// part of valid UTF-8 becomes U+FFFD.
void value(Writer& w, std::string_view v) {
  size_t i = 0;  // valid up to here
  while (i < v.size()) {
    const size_t n = static_cast<unsigned char>(v[i]) < 0x80 ? 1 : utf8_sequence(v, i);
    if (!n) break;
    i += n;
  }
  if (i == v.size()) {  // the usual case: nothing to replace
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return;
  }
  std::string clean;
  clean.reserve(v.size() + 8);
  clean.append(v.substr(0, i));
  while (i < v.size()) {
    const size_t n = utf8_sequence(v, i);
    if (n) clean.append(v.substr(i, n));
    else clean += "\xef\xbf\xbd";
    i += n ? n : 1;
  }
  w.String(clean.c_str(), static_cast<rapidjson::SizeType>(clean.size()));
}

void key(Writer& w, const char* k) { w.Key(k); }
void str(Writer& w, const char* k, const std::string& v) {
  w.Key(k);
  value(w, v);
}
void opt_str(Writer& w, const char* k, const std::optional<std::string>& v) {
  if (v) str(w, k, *v);
  else {
    w.Key(k);
    w.Null();
  }
}
void opt_hex(Writer& w, const char* k, const std::optional<uint32_t>& v, int width) {
  opt_str(w, k, v ? std::optional<std::string>(to_hex(*v, width)) : std::nullopt);
}
void opt_int(Writer& w, const char* k, const std::optional<int64_t>& v) {
  w.Key(k);
  if (v) w.Int64(*v);
  else w.Null();
}

void write_problem(Writer& w, const Problem& p) {
  w.StartObject();
  str(w, "code", p.code);
  str(w, "message", p.message);
  str(w, "fix", p.fix);
  key(w, "blocking");
  w.Bool(p.blocking);
  w.EndObject();
}

void write_mdev(Writer& w, const MdevInstance& m) {
  w.StartObject();
  str(w, "uuid", m.uuid);
  str(w, "type", m.type_id);
  str(w, "parent", m.parent.to_string());
  w.EndObject();
}

void write_gpu(Writer& w, const Gpu& g) {
  w.StartObject();
  str(w, "address", g.address.to_string());
  opt_hex(w, "vendor_id", g.vendor_id, 4);
  opt_hex(w, "product_id", g.product_id, 4);
  opt_hex(w, "subsystem_vendor_id", g.subsystem_vendor_id, 4);
  opt_hex(w, "subsystem_device_id", g.subsystem_device_id, 4);
  opt_str(w, "vendor_name", g.vendor_name);
  opt_str(w, "product_name", g.product_name);
  str(w, "class", to_hex(g.class_code, 6));
  opt_hex(w, "revision", g.revision, 2);
  key(w, "numa_node");
  w.Int64(g.numa_node);
  opt_str(w, "driver", g.driver);
  opt_int(w, "iommu_group", g.iommu_group);
  key(w, "iommu_group_members");
  w.StartArray();
  for (const auto& m : g.group_members) {
    const std::string a = m.address.to_string();
    value(w, a);
  }
  w.EndArray();
  key(w, "iommu_group_member_details");
  w.StartArray();
  for (const auto& m : g.group_members) {
    w.StartObject();
    str(w, "address", m.address.to_string());
    opt_hex(w, "class", m.class_code, 6);
    opt_hex(w, "vendor_id", m.vendor_id, 4);
    opt_hex(w, "product_id", m.product_id, 4);
    opt_str(w, "driver", m.driver);
    key(w, "same_card");
    w.Bool(m.same_card);
    w.EndObject();
  }
  w.EndArray();
  key(w, "boot_vga");
  w.Bool(g.boot_vga);
  key(w, "assignable");
  w.Bool(g.assignable);
  str(w, "mode", g.mode);
  key(w, "reasons");
  w.StartArray();
  for (const auto& p : g.problems)
    if (p.blocking) {
      std::string line = p.message + "; fix: " + p.fix;
      value(w, line);
    }
  w.EndArray();
  key(w, "problems");
  w.StartArray();
  for (const auto& p : g.problems) write_problem(w, p);
  w.EndArray();
  key(w, "sriov");
  if (!g.sriov) w.Null();
  else {
    w.StartObject();
    key(w, "total_vfs");
    w.Int64(g.sriov->total_vfs);
    key(w, "num_vfs");
    w.Int64(g.sriov->num_vfs);
    key(w, "vfs");
    w.StartArray();
    for (const auto& vf : g.sriov->vfs) {
      const std::string a = vf.address.to_string();
      value(w, a);
    }
    w.EndArray();
    key(w, "vf_details");
    w.StartArray();
    for (const auto& vf : g.sriov->vfs) {
      w.StartObject();
      str(w, "address", vf.address.to_string());
      opt_str(w, "driver", vf.driver);
      opt_int(w, "iommu_group", vf.iommu_group);
      opt_int(w, "current_vgpu_type", vf.current_vgpu_type);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  key(w, "mdev_types");
  w.StartArray();
  // Types come grouped by parent (22 per VF on an A40): format each parent once.
  std::optional<PciAddress> parent;
  std::string parent_text;
  for (const auto& t : g.mdev_types) {
    if (!parent || !(*parent == t.parent)) {
      parent = t.parent;
      parent_text = t.parent.to_string();
    }
    w.StartObject();
    str(w, "id", t.id);
    str(w, "name", t.name);
    str(w, "device_api", t.device_api);
    opt_int(w, "available_instances", t.available_instances);
    opt_int(w, "max_instances", t.parsed.max_instance);
    opt_int(w, "framebuffer_mib", t.parsed.framebuffer_mib);
    opt_int(w, "num_heads", t.parsed.num_heads);
    opt_int(w, "frl_config", t.parsed.frl_config);
    opt_str(w, "max_resolution", t.parsed.max_resolution);
    str(w, "description", t.description);
    str(w, "parent", parent_text);
    key(w, "instances");
    w.StartArray();
    for (const auto& u : t.instances) value(w, u);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  key(w, "vgpu_types");
  w.StartArray();
  for (const auto& t : g.vgpu_types) {
    w.StartObject();
    key(w, "id");
    w.Int64(t.id);
    str(w, "name", t.name);
    str(w, "parent", t.parent.to_string());
    w.EndObject();
  }
  w.EndArray();
  key(w, "mdevs");
  w.StartArray();
  for (const auto& m : g.mdevs) write_mdev(w, m);
  w.EndArray();
  w.EndObject();
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
      n += 512 + t.id.size() + t.name.size() + t.description.size() + 64 * t.instances.size();
  }
  return n;
}

}  // namespace

std::string inventory_to_json(const Inventory& inv) {
  std::string out;
  out.reserve(size_estimate(inv));
  StringOut buf(out);
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  key(w, "schema_version");
  w.Int(kInventorySchemaVersion);
  str(w, "hostname", inv.hostname);
  str(w, "hostname_source", inv.hostname_source);
  str(w, "source", inv.source);
  key(w, "iommu_enabled");
  w.Bool(inv.iommu_enabled);
  key(w, "gpus");
  w.StartArray();
  for (const auto& g : inv.gpus) write_gpu(w, g);
  w.EndArray();
  key(w, "mdevs");
  w.StartArray();
  for (const auto& m : inv.mdevs) write_mdev(w, m);
  w.EndArray();
  key(w, "warnings");
  w.StartArray();
  for (const auto& s : inv.warnings) value(w, s);
  w.EndArray();
  key(w, "libvirt");
  if (!inv.libvirt) w.Null();
  else {
    const auto& l = *inv.libvirt;
    w.StartObject();
    str(w, "uri", l.uri);
    key(w, "connected");
    w.Bool(l.connected);
    str(w, "error", l.error);
    opt_str(w, "hostname", l.hostname);
    key(w, "devices_compared");
    w.Int(l.devices_compared);
    key(w, "disagreements");
    w.StartArray();
    for (const auto& s : l.disagreements) value(w, s);
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  buf.Flush();
  out += "\n";
  return out;
}

}  // namespace gpu_agent
