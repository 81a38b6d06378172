#pragma once
// The gpu-agent commands, one file each (cmd_<name>.cpp) with its help beside
// it; run_cli (cli.cpp) dispatches through one table. Each takes the whole argv
// (argv[0] is the command) and the --config path if one was given, and returns
// the exit code: 0 ok, 1 failure, 2 bad usage or config (see exit_code()).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace gpu_agent {

using CommandFn = int (*)(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                          std::ostream& out, std::ostream& err);

int cmd_inventory(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                  std::ostream& out, std::ostream& err);
extern const char* const kInventoryHelp;

int cmd_capture(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
                std::ostream& err);
extern const char* const kCaptureHelp;

int cmd_report(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
               std::ostream& err);
extern const char* const kReportHelp;

int cmd_run(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
            std::ostream& err);
extern const char* const kRunHelp;

int cmd_nova_config(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                    std::ostream& out, std::ostream& err);
extern const char* const kNovaConfigHelp;

int cmd_flavors(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
                std::ostream& err);
extern const char* const kFlavorsHelp;

int cmd_doctor(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
               std::ostream& err);
extern const char* const kDoctorHelp;

int cmd_status(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
               std::ostream& err);
extern const char* const kStatusHelp;

struct Args;
struct AgentConfig;
struct HostSources;
// nova-config --format provider-yaml (cmd_provider_yaml.cpp): ARGS are nova-config's.
int nova_provider_yaml(const Args& args, const HostSources& src, const AgentConfig& cfg, std::ostream& out,
                       std::ostream& err);

}  // namespace gpu_agent
