#pragma once
// Run a program (the real gpu-agent binary) and collect what it printed, for
// end-to-end and golden tests.
#include <string>
#include <vector>

namespace gpu_agent::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when it did not exit normally (killed by a signal)
  std::string out, err;
};

// argv[0] is the program path. cwd, when not empty, is the child's working directory.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd = "");

}  // namespace gpu_agent::testing
