// run_cli: the global --config option, help, and the command table.
#include "cli.h"

#include <ostream>

#include "cli_common.h"
#include "commands.h"

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
  status      is the daemon healthy? its last pass, pools and problems, from
              the status it writes after every pass (exit 0/1/2: a monitoring check)
  version     print the version
  help [COMMAND]

Global option (before or after COMMAND):
  --config FILE   the agent's config (default $GPU_AGENT_CONFIG if set, else
                  /etc/gpu-agent/gpu-agent.conf, when it exists; built-in
                  defaults otherwise)

Run `gpu-agent COMMAND --help` for a command's options.
Exit codes: 0 ok, 1 failure, 2 bad usage or config.
)";

struct Command {
  const char* name;
  const char* const* help;
  CommandFn run;
  bool reads_host = true;  // takes the host-source options
};

// Every command with its help; help and dispatch read this one table.
const Command kCommands[] = {
    {"inventory", &kInventoryHelp, cmd_inventory},
    {"capture", &kCaptureHelp, cmd_capture, false},
    {"report", &kReportHelp, cmd_report},
    {"run", &kRunHelp, cmd_run},
    {"nova-config", &kNovaConfigHelp, cmd_nova_config},
    {"flavors", &kFlavorsHelp, cmd_flavors},
    {"doctor", &kDoctorHelp, cmd_doctor},
    {"status", &kStatusHelp, cmd_status, false},
};

const Command* find_command(const std::string& name) {
  for (const auto& c : kCommands)
    if (name == c.name) return &c;
  return nullptr;
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
    const Command* c = args.size() > 1 ? find_command(args[1]) : nullptr;
    return c ? show_help(out, *c->help, c->reads_host) : show_help(out, kMainHelp, false);
  }
  if (cmd == "version" || cmd == "--version") {
    out << "gpu-agent " << kAgentVersion << "\n";
    return 0;
  }
  if (const Command* c = find_command(cmd)) return c->run(args, config_path, out, err);
  err << "gpu-agent: unknown command '" << cmd << "'\n\n" << kMainHelp;
  return 2;
}

}  // namespace gpu_agent
