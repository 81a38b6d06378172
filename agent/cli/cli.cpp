#include "cli.h"
#include "cli_commands.h"
#include "cli_common.h"

#include <unistd.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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
#include "report.h"
#include "daemon.h"
#include "config.h"
#include "log.h"
#include "nova_config.h"
#include "pools.h"

namespace gpu_agent {
namespace {


const char* kMainHelp = R"(gpu-agent: GPU inventory and OpenStack Placement reporting for nova compute nodes

Usage: gpu-agent COMMAND [OPTIONS]

Commands:
  inventory   list this host's GPUs, SR-IOV VFs and vGPU types, and say for each
              whether it can be given to guests, and if not, what to fix
  capture     write the parts of /sys the inventory reads to one text file, to
              attach to a bug report or to replay with `inventory --fixture`
  report      reconcile once: report this host's GPU pools and traits to
              Placement (`--dry-run` prints the requests instead)
  run         the daemon: reconcile every interval, retry with backoff,
              SIGHUP reloads the config, SIGTERM exits cleanly
  nova-config the nova.conf [pci] lines (device_spec, alias) for this host's pools
  flavors     the 1x/2x/4x/8x GPU flavors for those pools: an `openstack` script
              (traits, then flavors), JSON, or Ansible variables
  doctor      is this host ready to give its GPUs to guests? if not, the kernel,
              vfio-pci and per-device lines that fix it
  version     print the version
  help [COMMAND]

Global option (before or after COMMAND):
  --config FILE   the agent's config (default /etc/gpu-agent/gpu-agent.conf
                  when it exists; built-in defaults otherwise)

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

const char* kReportHelp = R"(Usage: gpu-agent [--config FILE] report [--once] [--dry-run] [OPTIONS]

One reconcile pass: read this host's GPUs, derive the pools (one per GPU model
of whole GPUs ready for passthrough, or as [pool:NAME] sections say), find the
compute node provider nova created (by its hypervisor hostname), and create or
update the pool providers under it with their inventory and traits, and the
host traits on the compute node. Traits somebody else set are never removed;
providers the agent does not own are never touched.

Options:
  --once                 one pass (the default for `report`)
  --dry-run              print the planned requests; send no writes
  --nova-config FILE     reuse [placement] credentials from nova.conf
  --fixture FILE         read a capture instead of sysfs (tests, demos)
  --sysfs-root DIR       read sysfs below DIR
  --compute-node-name N  the compute node provider's name (else libvirt's
                         hostname, the fixture's, the FQDN)
  --libvirt-uri URI      where to ask for the hostname (`none` to skip)
  -v, --verbose          log every request

Exit codes: 0 done (or nothing to do), 1 placement or keystone failed (the
message says which request and why), 2 bad config (file, line and key).

Example (a lab Placement with noauth2):
  printf '[placement]
auth_type = admin_token
token = admin
endpoint_override = http://127.0.0.1:8778
' > lab.conf
  gpu-agent --config lab.conf report --dry-run
)";

const char* kRunHelp = R"(Usage: gpu-agent [--config FILE] run [OPTIONS]

The daemon: a reconcile pass every [agent] interval seconds (60, with +-10%
jitter); while placement or keystone is unreachable, or nova has not created
the compute node yet, retries with capped exponential backoff ([agent]
retry_min .. retry_max). A pass with nothing changed costs one GET and no
writes. SIGHUP reloads the config (a bad file is logged and the old one kept);
SIGTERM/SIGINT finish the request in flight and exit 0. Refused credentials
exit 1 (no retry storm); a bad config exits 2.

Options: the same sources as `report` (--nova-config, --fixture, --sysfs-root,
--compute-node-name, --libvirt-uri, -v), and:
  --max-passes N   stop after N passes (tests and benchmarks)
  --interval S     seconds between passes, overriding [agent] interval
                   (tests and benchmarks; down to 0.001)
)";

int cmd_inventory(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                  std::ostream& out, std::ostream& err) {
  Args a;
  if (auto e = parse_args(argv, 1, with_host_options({}), {"json"}, kHostSourceAliases, a))
    return usage_error(err, "inventory", *e);
  if (a.help) {
    out << kInventoryHelp;
    return 0;
  }
  auto src = host_sources(a);
  if (!src) return usage_error(err, "inventory", src.error().message);
  auto cfg = load_config_for(config_path);
  if (!cfg) return fail(err, "inventory", cfg.error());
  LoadOptions lo;
  lo.cross_check_libvirt = true;
  lo.pools = lo.layouts = false;  // the inventory judges GPUs; pools are report's and nova-config's
  auto host = load_host(*src, *cfg, lo);
  if (!host) return fail(err, "inventory", host.error());
  out << (a.flags.count("json") ? inventory_to_json(host->inventory) : inventory_to_table(host->inventory));
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
  err << "captured " << st.devices << " PCI devices (" << st.files << " files, " << st.links << " links, "
      << st.errors << " unreadable) from " << fs.root() << (o && *o != "-" ? " to " + *o : std::string()) << "\n";
  return 0;
}

int cmd_report_or_run(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                      std::ostream& out, std::ostream& err) {
  const bool daemon = argv[0] == "run";
  Args a;
  std::vector<std::string> values = with_host_options({"nova-config"});
  std::vector<std::string> flags{"verbose"};
  if (daemon) {
    values.push_back("max-passes");
    values.push_back("interval");
  }
  else {
    flags.push_back("once");
    flags.push_back("dry-run");
  }
  auto aliases = kHostSourceAliases;
  aliases["-v"] = "--verbose";
  if (auto e = parse_args(argv, 1, values, flags, aliases, a)) return usage_error(err, argv[0], *e);
  if (a.help) {
    out << (daemon ? kRunHelp : kReportHelp);
    return 0;
  }
  auto src = host_sources(a);
  if (!src) return usage_error(err, argv[0], src.error().message);
  uint64_t max_passes = 0;
  if (auto m = value(a, "max-passes")) {
    auto n = parse_int(*m);
    if (!n || *n < 1) return usage_error(err, argv[0], "--max-passes needs a positive number");
    max_passes = static_cast<uint64_t>(*n);
  }
  std::optional<double> interval;
  if (auto iv = value(a, "interval")) {
    char* end = nullptr;
    const double v = std::strtod(iv->c_str(), &end);
    if (iv->empty() || *end || !(v >= 0.001 && v <= 86400))
      return usage_error(err, argv[0], "--interval needs seconds from 0.001 to 86400");
    interval = v;
  }

  Log log(err, a.flags.count("verbose") ? Log::Level::debug : Log::Level::info);
  auto load = [&](std::string& problem) -> std::optional<AgentConfig> {
    auto cfg = load_config_for(config_path);
    if (!cfg) {
      problem = cfg.error().message;
      return std::nullopt;
    }
    auto p = effective_placement(*cfg, value(a, "nova-config"));
    if (!p) {
      problem = p.error().message;
      return std::nullopt;
    }
    cfg->placement = *p;
    return *cfg;
  };
  std::string problem;
  auto cfg = load(problem);
  if (!cfg) {
    err << "gpu-agent " << argv[0] << ": " << problem << "\n";
    return 2;
  }
  Reporter reporter(*cfg, *src, log);
  if (a.flags.count("verbose"))
    log.debug("config " + (cfg->path.empty() ? std::string("(built-in defaults)") : cfg->path));

  if (!daemon) {
    const bool dry = a.flags.count("dry-run") > 0;
    PassOutcome o = reporter.pass(dry, dry ? &out : nullptr);
    const PassStats& st = o.stats;
    if (o.kind == PassOutcome::Kind::ok) {
      log.info(o.message + " (" + std::to_string(st.requests) + " request(s), " + std::to_string(st.writes) +
               " write(s))");
      return 0;
    }
    log.error(o.message);
    return exit_code(o);
  }

  block_daemon_signals();
  DaemonHooks hooks;
  hooks.max_passes = max_passes;
  hooks.pass = [&] {
    PassOutcome o = reporter.pass(false, nullptr, stop_requested);
    const PassStats& st = o.stats;
    if (o.kind == PassOutcome::Kind::ok && st.writes > 0)
      log.info("pass done: " + o.message + " (" + std::to_string(st.requests) + " requests)");
    else if (o.kind == PassOutcome::Kind::ok)
      log.debug("pass done: " + o.message + " (" + std::to_string(st.requests) + " request(s))");
    return o;
  };
  hooks.reload = [&](std::string& error) {
    auto next = load(error);
    if (!next) return false;
    reporter.reload(*next);
    return true;
  };
  hooks.interval = [&] { return interval.value_or(reporter.config().interval); };
  hooks.jitter = [&] { return reporter.config().jitter; };
  hooks.retry_min = [&] { return reporter.config().retry_min; };
  hooks.retry_max = [&] { return reporter.config().retry_max; };
  log.info("gpu-agent " + std::string(kAgentVersion) + " running; config " +
           (cfg->path.empty() ? std::string("(built-in defaults)") : cfg->path) + ", every " +
           std::to_string(static_cast<long>(cfg->interval)) + " s");
  return exit_code(run_daemon(hooks, log));
}

const char* kNovaConfigHelp = R"(Usage: gpu-agent [--config FILE] nova-config [OPTIONS]

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
  --fixture FILE       read a capture (`gpu-agent capture`) instead of /sys
  --sysfs-root DIR     read sysfs below DIR (default: the config's, /sys)
  --nova-release R     zed (default), or a name or year: yoga, 2023.1, antelope...
                       Before Zed the option is passthrough_whitelist.
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
  --hostname NAME      the host named in the header (default: the fixture's, or
                       the config's compute node name, or this host's)

Examples:
  gpu-agent nova-config --role compute -o /etc/nova/nova.conf.d/50-gpu-agent-pci.conf
  gpu-agent nova-config --role api --nova-release 2023.1
  gpu-agent nova-config --fixture a100.sysfs.txt --format json | jq -r '.aliases[].value'
  gpu-agent nova-config --format provider-yaml -o /etc/nova/provider_config/gpu-agent.yaml

Exit codes: 0 written, 1 no assignable GPU or a read/write failure, 2 bad usage or config.
)";

int cmd_nova_config(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                    std::ostream& out, std::ostream& err) {
  const std::string cmd = "nova-config";
  Args a;
  auto aliases = kHostSourceAliases;
  aliases["-o"] = "--output";
  if (auto e = parse_args(argv, 1, with_host_options({"nova-release", "numa-policy", "role", "format", "output"}), {},
                          aliases, a))
    return usage_error(err, cmd, *e);
  if (a.help) {
    out << kNovaConfigHelp;
    return 0;
  }
  auto src = host_sources(a);
  if (!src) return usage_error(err, cmd, src.error().message);
  auto role = parse_nova_role(value(a, "role").value_or("all"));
  if (!role) return usage_error(err, cmd, role.error().message);
  const std::string format = value(a, "format").value_or("ini");
  if (format != "ini" && format != "json" && format != "provider-yaml")
    return usage_error(err, cmd, "--format is ini, json or provider-yaml");
  NovaConfigOptions opts;
  opts.release = value(a, "nova-release").value_or(opts.release);
  opts.numa_policy = value(a, "numa-policy").value_or(opts.numa_policy);
  opts.generator = std::string("gpu-agent ") + kAgentVersion;
  if (auto r = parse_nova_release(opts.release); !r) return usage_error(err, cmd, r.error().message);
  auto cfg = load_config_for(config_path);
  if (!cfg) {
    err << "gpu-agent " << cmd << ": " << cfg.error().message << "\n";
    return 2;
  }
  if (format == "provider-yaml") return nova_provider_yaml(a, *src, *cfg, out, err);

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
  const std::string text = format == "json" ? nova_config_to_json(*nova, *role) : nova_config_to_ini(*nova, *role);
  auto o = value(a, "output");
  if (!o || *o == "-") {
    out << text;
    return 0;
  }
  if (!write_file_atomically(*o, text, cmd, err)) return 1;  // nova never reads half a snippet
  err << "wrote " << *o << " (" << nova->device_specs.size() << " " << nova->device_spec_option << ", "
      << nova->aliases.size() << " alias lines, nova " << nova->release.name << ")\n";
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& all_args, std::ostream& out, std::ostream& err) {
  // --config FILE may come before or after the command
  std::vector<std::string> args;
  std::optional<std::string> config_path;
  for (size_t i = 0; i < all_args.size(); ++i) {
    if (all_args[i] == "--config") {
      if (i + 1 >= all_args.size()) {
        err << "gpu-agent: --config needs a file\n";
        return 2;
      }
      config_path = all_args[++i];
    } else if (all_args[i].rfind("--config=", 0) == 0) {
      config_path = all_args[i].substr(9);
    } else {
      args.push_back(all_args[i]);
    }
  }
  if (args.empty()) {
    err << kMainHelp;
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    if (args.size() > 1 && args[1] == "inventory") out << kInventoryHelp;
    else if (args.size() > 1 && args[1] == "capture") out << kCaptureHelp;
    else if (args.size() > 1 && args[1] == "report") out << kReportHelp;
    else if (args.size() > 1 && args[1] == "run") out << kRunHelp;
    else if (args.size() > 1 && args[1] == "nova-config") out << kNovaConfigHelp;
    else if (args.size() > 1 && args[1] == "flavors") out << kFlavorsHelp;
    else if (args.size() > 1 && args[1] == "doctor") out << kDoctorHelp;
    else out << kMainHelp;
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    out << "gpu-agent " << kAgentVersion << "\n";
    return 0;
  }
  if (cmd == "inventory") return cmd_inventory(args, config_path, out, err);
  if (cmd == "capture") return cmd_capture(args, out, err);
  if (cmd == "report" || cmd == "run") return cmd_report_or_run(args, config_path, out, err);
  if (cmd == "nova-config") return cmd_nova_config(args, config_path, out, err);
  if (cmd == "flavors") return cmd_flavors(args, config_path, out, err);
  if (cmd == "doctor") return cmd_doctor(args, config_path, out, err);
  err << "gpu-agent: unknown command '" << cmd << "'\n\n" << kMainHelp;
  return 2;
}

}  // namespace gpu_agent
