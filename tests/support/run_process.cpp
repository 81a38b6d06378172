#include "run_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "temp_dir.h"
#include "text_file.h"

namespace gpu_agent::testing {

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd) {
  // Output goes to files, not pipes: nothing to drain while waiting, no deadlock on big JSON.
  TempDir tmp("gpu-agent-run");
  const std::string out_path = tmp / "stdout", err_path = tmp / "stderr";
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0 || ::dup2(in, 0) < 0) ::_exit(126);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      dprintf(2, "run_process: chdir %s: %s\n", cwd.c_str(), std::strerror(errno));
      ::_exit(126);
    }
    ::execv(args[0], args.data());
    dprintf(2, "run_process: exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text_file(out_path);
  r.err = read_text_file(err_path);
  return r;
}

}  // namespace gpu_agent::testing
