#include "cli.h"

#include <unistd.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>

#include "capture.h"
#include "fixture.h"
#include "hostname.h"
#include "inventory.h"
#include "inventory_json.h"
#include "inventory_table.h"
#include "libvirt_check.h"
#include "pci_names.h"

namespace gpu_agent {
namespace {

constexpr const char* kVersion = "0.1.0";

const char* kMainHelp = R"(gpu-agent: GPU inventory and OpenStack Placement reporting for nova compute nodes

Usage: gpu-agent COMMAND [OPTIONS]

Commands:
  inventory   list this host's GPUs, SR-IOV VFs and vGPU types, and say for each
              whether it can be given to guests, and if not, what to fix
  capture     write the parts of /sys the inventory reads to one text file, to
              attach to a bug report or to replay with `inventory --fixture`
  version     print the version
  help [COMMAND]

Run `gpu-agent COMMAND --help` for a command's options.
Exit codes: 0 ok, 1 failure, 2 bad usage or config.
)";

const char* kInventoryHelp = R"(Usage: gpu-agent inventory [OPTIONS]

List every GPU (PCI class 0300 VGA and 0302 3D; VFs under their PF) with its
IDs, names, NUMA node, driver, IOMMU group, SR-IOV state and vGPU types, and a
verdict: can it be given to guests (whole-GPU passthrough or vGPU), and if not,
each reason with the command or setting that fixes it.

Options:
  --sysfs-root DIR    read sysfs below DIR (default: /sys)
  --fixture FILE      read a capture made by `gpu-agent capture` instead of sysfs
  --json              print JSON (schema: README.md, "Inventory JSON")
  --pci-ids FILE      pci.ids for vendor and product names
                      (default: libpci's, /usr/share/misc/pci.ids)
  --libvirt-uri URI   cross-check node devices with libvirt and take nova's
                      hostname from it (default: qemu:///system when reading
                      /sys, none for --fixture and --sysfs-root; `none` skips)
  --hostname NAME     the compute node name to report (default: libvirt's
                      hostname, the fixture's, then this host's FQDN)

Examples:
  gpu-agent inventory
  gpu-agent inventory --json | jq '.gpus[] | {address, assignable, reasons}'
  gpu-agent inventory --fixture h100.sysfs.txt
)";

const char* kCaptureHelp = R"(Usage: gpu-agent capture [OPTIONS]

Write the sysfs entries the inventory reads (PCI identity files, driver, IOMMU
group and SR-IOV links, mdev types and instances, NVIDIA vGPU files) as one
text fixture. Nothing secret is read: no config space, ROMs or serial numbers.

Options:
  --sysfs-root DIR    read sysfs below DIR (default: /sys)
  -o, --output FILE   write to FILE (replaced atomically; default: stdout)
  --hostname NAME     hostname recorded in the capture (default: this host's)

Example:
  gpu-agent capture -o /tmp/$(hostname).sysfs.txt
  gpu-agent inventory --fixture /tmp/$(hostname).sysfs.txt
)";

struct Args {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  bool help = false;
};

// Options are "--name VALUE" or "--name=VALUE"; flags take no value.
std::optional<std::string> parse_args(const std::vector<std::string>& in, size_t start,
                                      const std::vector<std::string>& value_opts,
                                      const std::vector<std::string>& flag_opts,
                                      const std::map<std::string, std::string>& aliases, Args& out) {
  for (size_t i = start; i < in.size(); ++i) {
    std::string a = in[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    if (auto al = aliases.find(a); al != aliases.end()) a = al->second;
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    bool is_value = false, is_flag = false;
    for (const auto& v : value_opts) is_value |= (a == "--" + v);
    for (const auto& f : flag_opts) is_flag |= (a == "--" + f);
    if (is_flag && !inline_value) {
      out.flags[a.substr(2)] = true;
    } else if (is_value) {
      if (inline_value) out.values[a.substr(2)] = *inline_value;
      else if (i + 1 < in.size()) out.values[a.substr(2)] = in[++i];
      else return "option " + a + " needs a value";
    } else {
      return "unknown option '" + in[i] + "'";
    }
  }
  return std::nullopt;
}

std::optional<std::string> value(const Args& a, const std::string& k) {
  auto it = a.values.find(k);
  return it == a.values.end() ? std::nullopt : std::optional<std::string>(it->second);
}

int usage_error(std::ostream& err, const std::string& cmd, const std::string& msg) {
  err << "gpu-agent " << cmd << ": " << msg << "\n"
      << "Run `gpu-agent " << cmd << " --help` for usage.\n";
  return 2;
}

int cmd_inventory(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  Args a;
  if (auto e = parse_args(argv, 1, {"sysfs-root", "fixture", "pci-ids", "libvirt-uri", "hostname"}, {"json"}, {}, a))
    return usage_error(err, "inventory", *e);
  if (a.help) {
    out << kInventoryHelp;
    return 0;
  }
  if (value(a, "fixture") && value(a, "sysfs-root"))
    return usage_error(err, "inventory", "--fixture and --sysfs-root are alternatives; give one");

  std::unique_ptr<Fs> fs;
  std::optional<std::string> fixture_host;
  if (auto f = value(a, "fixture")) {
    auto fx = load_fixture_file(*f);
    if (!fx) {
      err << "gpu-agent inventory: " << fx.error().message << "\n";
      return 1;
    }
    if (auto h = fx->meta.find("hostname"); h != fx->meta.end()) fixture_host = h->second;
    fs = std::move(fx->fs);
  } else {
    fs = std::make_unique<RealFs>(value(a, "sysfs-root").value_or("/sys"));
  }

  PciNames names(value(a, "pci-ids").value_or(""));
  InventoryOptions opts;
  opts.names = &names;
  auto inv = read_inventory(*fs, opts);
  if (!inv) {
    err << "gpu-agent inventory: " << inv.error().message << "\n";
    return 1;
  }
  if (names.error()) inv->warnings.push_back(*names.error());

  const bool real_sys = !value(a, "fixture") && !value(a, "sysfs-root");
  std::string uri = value(a, "libvirt-uri").value_or(real_sys ? "qemu:///system" : "none");
  std::optional<std::string> libvirt_host;
  if (uri != "none") {
    LibvirtReport rep;
    rep.uri = uri;
    auto snap = read_libvirt(uri);
    if (!snap) {
      rep.error = snap.error().message;
    } else {
      rep.connected = true;
      rep.hostname = snap->hostname;
      libvirt_host = snap->hostname;
      rep.disagreements = compare_with_libvirt(*inv, snap->devices, &rep.devices_compared);
    }
    inv->libvirt = std::move(rep);
  }
  HostName host = choose_hostname(value(a, "hostname"), fixture_host, libvirt_host);
  inv->hostname = host.name;
  inv->hostname_source = host.source;

  out << (a.flags.count("json") ? inventory_to_json(*inv) : inventory_to_table(*inv));
  return 0;
}

int cmd_capture(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  Args a;
  if (auto e = parse_args(argv, 1, {"sysfs-root", "output", "hostname"}, {}, {{"-o", "--output"}}, a))
    return usage_error(err, "capture", *e);
  if (a.help) {
    out << kCaptureHelp;
    return 0;
  }
  RealFs fs(value(a, "sysfs-root").value_or("/sys"));
  if (!fs.exists("bus/pci/devices")) {
    err << "gpu-agent capture: " << fs.display("bus/pci/devices")
        << " does not exist; is this a sysfs root? (pass --sysfs-root DIR)\n";
    return 1;
  }
  CaptureStats st;
  MemFs tree = capture_tree(fs, &st);
  std::map<std::string, std::string> meta;
  meta["hostname"] = value(a, "hostname").value_or(local_hostname());
  meta["source"] = fs.root();
  meta["captured_by"] = std::string("gpu-agent ") + kVersion;
  {
    char buf[32];
    std::time_t now = std::time(nullptr);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    meta["captured_at"] = buf;
    utsname u{};
    if (::uname(&u) == 0) meta["kernel"] = u.release;
  }
  const std::string text = format_fixture(tree, meta);
  auto o = value(a, "output");
  if (!o || *o == "-") {
    out << text;
  } else {
    // write beside the target and rename, so a failed capture never leaves half a file
    const std::string tmp = *o + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << text;
      f.flush();
      if (!f) {
        err << "gpu-agent capture: cannot write " << tmp << ": " << std::strerror(errno) << "\n";
        std::remove(tmp.c_str());
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), o->c_str()) != 0) {
      err << "gpu-agent capture: cannot rename " << tmp << " to " << *o << ": " << std::strerror(errno) << "\n";
      std::remove(tmp.c_str());
      return 1;
    }
  }
  err << "captured " << st.devices << " PCI devices (" << st.files << " files, " << st.links << " links, "
      << st.errors << " unreadable) from " << fs.root() << (o && *o != "-" ? " to " + *o : std::string()) << "\n";
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kMainHelp;
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    if (args.size() > 1 && args[1] == "inventory") out << kInventoryHelp;
    else if (args.size() > 1 && args[1] == "capture") out << kCaptureHelp;
    else out << kMainHelp;
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    out << "gpu-agent " << kVersion << "\n";
    return 0;
  }
  if (cmd == "inventory") return cmd_inventory(args, out, err);
  if (cmd == "capture") return cmd_capture(args, out, err);
  err << "gpu-agent: unknown command '" << cmd << "'\n\n" << kMainHelp;
  return 2;
}

}  // namespace gpu_agent
