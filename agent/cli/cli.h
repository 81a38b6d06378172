#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace gpu_agent {

// Exit codes: 0 ok, 1 failure, 2 bad usage or config.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace gpu_agent
