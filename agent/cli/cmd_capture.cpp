// gpu-agent capture: the sysfs entries the inventory reads, as one text
// fixture for a bug report or for `inventory --fixture`.
#include <sys/utsname.h>

#include <ctime>
#include <map>

#include <ostream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "capture.h"
#include "fixture.h"
#include "hostname.h"

namespace gpu_agent {

const char* const kCaptureHelp = R"(Usage: gpu-agent capture [OPTIONS]

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

int cmd_capture(const std::vector<std::string>& argv, const std::optional<std::string>& /*config_path*/,
                std::ostream& out, std::ostream& err) {
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
  meta["captured_by"] = std::string("gpu-agent ") + kAgentVersion;
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
    if (!write_file_atomically(*o, text, "capture", err)) return 1;
  }
  err << "captured " << st.devices << " PCI devices (" << st.files << " files, " << st.links << " links, " << st.errors
      << " unreadable) from " << fs.root() << (o && *o != "-" ? " to " + *o : std::string()) << "\n";
  return 0;
}

}  // namespace gpu_agent
