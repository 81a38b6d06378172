#pragma once
// Commands that live in their own files (cli_<name>.cpp); run_cli dispatches to them.
// Each takes the whole argv (argv[0] is the command), the --config path if one was
// given, and returns the exit code: 0 ok, 1 failure, 2 bad usage or config.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace gpu_agent {

using CommandFn = int (*)(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                          std::ostream& out, std::ostream& err);

int cmd_flavors(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
                std::ostream& out, std::ostream& err);
extern const char* const kFlavorsHelp;

int cmd_doctor(const std::vector<std::string>& argv, const std::optional<std::string>& config_path,
               std::ostream& out, std::ostream& err);
extern const char* const kDoctorHelp;

struct Args;
struct AgentConfig;
struct HostSources;
// nova-config --format provider-yaml (cli_provider_yaml.cpp): ARGS are nova-config's.
int nova_provider_yaml(const Args& args, const HostSources& src, const AgentConfig& cfg, std::ostream& out,
                       std::ostream& err);

}  // namespace gpu_agent
