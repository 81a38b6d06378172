#include "libvirt_check.h"

#include "inventory.h"
#include "shared_library.h"

#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

namespace gpu_agent {
namespace {

// libvirt is loaded on first use, not linked: it pulls in glib, gnutls, ICU
// and ~55 other libraries, about 12 MB of resident memory, which a daemon
// that only needs a hostname (or a host with compute_node_name set, or a
// fixture) should not carry. A host without libvirt0 then still runs the agent.
struct Libvirt {
  decltype(&::virSetErrorFunc) set_error_func = nullptr;
  decltype(&::virConnectOpenReadOnly) open_read_only = nullptr;
  decltype(&::virConnectGetHostname) get_hostname = nullptr;
  decltype(&::virConnectListAllNodeDevices) list_node_devices = nullptr;
  decltype(&::virNodeDeviceGetXMLDesc) node_device_xml = nullptr;
  decltype(&::virNodeDeviceFree) node_device_free = nullptr;
  decltype(&::virConnectClose) close = nullptr;
  decltype(&::virGetLastErrorMessage) last_error_message = nullptr;
  std::string error;  // why it could not be loaded
};

using shared_library::bind;

const Libvirt& libvirt() {
  static const Libvirt lv = [] {
    Libvirt l;
    void* lib = shared_library::open("libvirt.so.0", "libvirt", "install libvirt0 or pass --libvirt-uri none", l.error);
    if (!lib) return l;
    const bool ok = bind(lib, "virSetErrorFunc", l.set_error_func) &&
                    bind(lib, "virConnectOpenReadOnly", l.open_read_only) &&
                    bind(lib, "virConnectGetHostname", l.get_hostname) &&
                    bind(lib, "virConnectListAllNodeDevices", l.list_node_devices) &&
                    bind(lib, "virNodeDeviceGetXMLDesc", l.node_device_xml) &&
                    bind(lib, "virNodeDeviceFree", l.node_device_free) && bind(lib, "virConnectClose", l.close) &&
                    bind(lib, "virGetLastErrorMessage", l.last_error_message);
    if (!ok) l.error = "libvirt.so.0 lacks a function the agent needs (libvirt older than 1.2?)";
    return l;
  }();
  return lv;
}

// libvirt prints every error to stderr unless told otherwise; the agent
// reports them itself, once, with context.
void silent(void*, virErrorPtr) {}

std::string last_error() {
  const char* m = libvirt().last_error_message();
  return m ? m : "unknown libvirt error";
}

struct ConnCloser {
  void operator()(virConnectPtr c) const { libvirt().close(c); }
};

// libxml2, which parses libvirt's node device XML, is loaded on first use too:
// linked, it and ICU (~0.9 MB resident) would load with every command.
struct Libxml {
  decltype(&::xmlReadMemory) read_memory = nullptr;
  decltype(&::xmlDocGetRootElement) root_element = nullptr;
  decltype(&::xmlFreeDoc) free_doc = nullptr;
  decltype(&::xmlNodeGetContent) node_content = nullptr;
  decltype(&::xmlGetProp) get_prop = nullptr;
  xmlFreeFunc* free = nullptr;  // a variable in libxml2, not a function
  std::string error;            // why it could not be loaded
};

const Libxml& libxml() {
  static const Libxml lx = [] {
    Libxml l;
    void* lib = shared_library::open("libxml2.so.2", "libxml2", "install libxml2 or pass --libvirt-uri none", l.error);
    if (!lib) return l;
    const bool ok = bind(lib, "xmlReadMemory", l.read_memory) && bind(lib, "xmlDocGetRootElement", l.root_element) &&
                    bind(lib, "xmlFreeDoc", l.free_doc) && bind(lib, "xmlNodeGetContent", l.node_content) &&
                    bind(lib, "xmlGetProp", l.get_prop) && (l.free = static_cast<xmlFreeFunc*>(dlsym(lib, "xmlFree")));
    if (!ok) l.error = "libxml2.so.2 lacks a function the agent needs";
    return l;
  }();
  return lx;
}

struct DocFree {
  void operator()(xmlDoc* d) const { libxml().free_doc(d); }
};

std::string text_of(xmlNode* n) {
  xmlChar* c = libxml().node_content(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  (*libxml().free)(c);
  return std::string(trim_space(s));
}

std::optional<std::string> attr(xmlNode* n, const char* name) {
  xmlChar* v = libxml().get_prop(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return std::nullopt;
  std::string s = reinterpret_cast<const char*>(v);
  (*libxml().free)(v);
  return s;
}

bool is(xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

// libvirt writes domain/bus/slot/function in decimal, ids in 0x hex.
std::optional<int64_t> number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  if (*end) return std::nullopt;
  return v;
}

std::optional<uint32_t> hex_id(const std::optional<std::string>& s, int digits) {
  if (!s) return std::nullopt;
  auto v = parse_hex(*s, digits);
  return v ? std::optional<uint32_t>(*v) : std::nullopt;
}

}  // namespace

Result<std::optional<LibvirtPciDevice>> parse_nodedev_xml(const std::string& xml) {
  const Libxml& lx = libxml();
  if (!lx.error.empty()) return make_error("cannot read libvirt's node device XML: " + lx.error);
  std::unique_ptr<xmlDoc, DocFree> doc(lx.read_memory(xml.data(), static_cast<int>(xml.size()), "nodedev.xml", nullptr,
                                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) return make_error("libvirt returned node device XML that does not parse");
  xmlNode* root = lx.root_element(doc.get());
  if (!root || !is(root, "device")) return make_error("node device XML has no <device> root");
  LibvirtPciDevice d;
  bool pci = false;
  int64_t dom = 0, bus = 0, slot = 0, fn = 0;
  for (xmlNode* c = root->children; c; c = c->next) {
    if (is(c, "driver")) {
      for (xmlNode* n = c->children; n; n = n->next)
        if (is(n, "name")) d.driver = text_of(n);
    }
    if (!is(c, "capability") || attr(c, "type") != std::optional<std::string>("pci")) continue;
    pci = true;
    for (xmlNode* n = c->children; n; n = n->next) {
      if (is(n, "domain")) dom = number(text_of(n)).value_or(-1);
      else if (is(n, "bus")) bus = number(text_of(n)).value_or(-1);
      else if (is(n, "slot")) slot = number(text_of(n)).value_or(-1);
      else if (is(n, "function")) fn = number(text_of(n)).value_or(-1);
      else if (is(n, "class")) d.class_code = hex_id(text_of(n), 6);
      else if (is(n, "vendor")) d.vendor_id = hex_id(attr(n, "id"), 4);
      else if (is(n, "product")) d.product_id = hex_id(attr(n, "id"), 4);
      else if (is(n, "iommuGroup")) {
        if (auto v = attr(n, "number")) d.iommu_group = number(*v);
      } else if (is(n, "numa")) {
        if (auto v = attr(n, "node")) d.numa_node = number(*v);
      } else if (is(n, "capability") && attr(n, "type") == std::optional<std::string>("mdev_types")) {
        for (xmlNode* t = n->children; t; t = t->next) {
          if (!is(t, "type")) continue;
          std::optional<int64_t> avail;
          for (xmlNode* f = t->children; f; f = f->next)
            if (is(f, "availableInstances")) avail = number(text_of(f));
          d.mdev_types.emplace_back(attr(t, "id").value_or(""), avail);
        }
      }
    }
  }
  if (!pci) return std::optional<LibvirtPciDevice>{};
  if (dom < 0 || bus < 0 || bus > 255 || slot < 0 || slot > 31 || fn < 0 || fn > 7)
    return make_error("node device XML has a PCI address out of range");
  d.address = PciAddress{static_cast<uint32_t>(dom), static_cast<uint8_t>(bus), static_cast<uint8_t>(slot),
                         static_cast<uint8_t>(fn)};
  return std::optional<LibvirtPciDevice>(std::move(d));
}

Result<LibvirtSnapshot> read_libvirt(const std::string& uri) {
  const Libvirt& lv = libvirt();
  if (!lv.error.empty()) return make_error("cannot use libvirt at " + uri + ": " + lv.error);
  lv.set_error_func(nullptr, silent);
  std::unique_ptr<virConnect, ConnCloser> conn(lv.open_read_only(uri.c_str()));
  if (!conn) return make_error("cannot connect to libvirt at " + uri + ": " + last_error());
  LibvirtSnapshot snap;
  if (char* h = lv.get_hostname(conn.get())) {
    snap.hostname = h;
    std::free(h);
  }
  virNodeDevicePtr* devs = nullptr;
  int n = lv.list_node_devices(conn.get(), &devs, 0);
  if (n < 0) return make_error("libvirt at " + uri + " cannot list node devices: " + last_error());
  std::optional<Error> failure;
  for (int i = 0; i < n; ++i) {
    if (!failure) {
      if (char* xml = lv.node_device_xml(devs[i], 0)) {
        auto d = parse_nodedev_xml(xml);
        std::free(xml);
        if (!d) failure = d.error();
        else if (*d) snap.devices.push_back(std::move(**d));
      }
    }
    lv.node_device_free(devs[i]);
  }
  std::free(devs);
  if (failure) return *failure;
  return snap;
}

std::vector<std::string> compare_with_libvirt(const Inventory& inv, const std::vector<LibvirtPciDevice>& devices,
                                              int* compared) {
  std::vector<std::string> out;
  std::map<PciAddress, const LibvirtPciDevice*> by_addr;
  for (const auto& d : devices) by_addr[d.address] = &d;
  int count = 0;
  auto mdev_types_of = [](const Gpu& g, const PciAddress& parent) {
    std::map<std::string, std::optional<int64_t>> m;
    for (const auto& t : g.mdev_types)
      if (t.parent == parent) m[t.id()] = t.available_instances;
    return m;
  };
  for (const auto& g : inv.gpus) {
    const std::string a = g.address.to_string();
    auto it = by_addr.find(g.address);
    if (it == by_addr.end()) {
      out.push_back(a + ": in sysfs but libvirt has no node device for it");
      continue;
    }
    ++count;
    const LibvirtPciDevice& l = *it->second;
    auto differ = [&](const char* what, const std::string& sysfs, const std::string& lv) {
      if (sysfs != lv) out.push_back(a + ": " + what + " is " + sysfs + " in sysfs but " + lv + " in libvirt");
    };
    auto show_hex = [](const std::optional<uint32_t>& v, int w) { return v ? to_hex(*v, w) : std::string("none"); };
    auto show_int = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("none"); };
    differ("vendor_id", show_hex(g.vendor_id, 4), show_hex(l.vendor_id, 4));
    differ("product_id", show_hex(g.product_id, 4), show_hex(l.product_id, 4));
    differ("class", to_hex(g.class_code, 6), show_hex(l.class_code, 6));
    differ("iommu_group", show_int(g.iommu_group), show_int(l.iommu_group));
    // libvirt leaves <numa> out when the kernel says -1
    differ("numa_node", std::to_string(g.numa_node), std::to_string(l.numa_node.value_or(-1)));

    std::vector<PciAddress> parents{g.address};
    if (g.sriov)
      for (const auto& vf : g.sriov->vfs) parents.push_back(vf.address);
    for (const auto& p : parents) {
      auto mine = mdev_types_of(g, p);
      auto lit = by_addr.find(p);
      std::map<std::string, std::optional<int64_t>> theirs;
      if (lit != by_addr.end())
        for (const auto& [id, avail] : lit->second->mdev_types) theirs[id] = avail;
      else if (!mine.empty()) {
        out.push_back(p.to_string() + ": has mdev types in sysfs but libvirt has no node device for it");
        continue;
      }
      for (const auto& [id, avail] : mine) {
        auto t = theirs.find(id);
        if (t == theirs.end()) out.push_back(p.to_string() + ": mdev type " + id + " is in sysfs but not in libvirt");
        else if (t->second != avail)
          out.push_back(p.to_string() + ": mdev type " + id + " has " + show_int(avail) +
                        " available instances in sysfs but " + show_int(t->second) + " in libvirt");
      }
      for (const auto& [id, avail] : theirs)
        if (!mine.count(id)) out.push_back(p.to_string() + ": mdev type " + id + " is in libvirt but not in sysfs");
    }
  }
  for (const auto& d : devices) {
    if (!d.class_code || !is_gpu_class(*d.class_code)) continue;
    bool known = false;
    for (const auto& g : inv.gpus) {
      if (g.address == d.address) known = true;
      if (g.sriov)
        for (const auto& vf : g.sriov->vfs)
          if (vf.address == d.address) known = true;
    }
    if (!known) out.push_back(d.address.to_string() + ": libvirt lists a GPU that sysfs does not have");
  }
  if (compared) *compared = count;
  return out;
}

}  // namespace gpu_agent
