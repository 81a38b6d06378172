// gpu-agent status: the daemon's health from the status.json it writes after
// every pass, for a person or (--json) a tool; the exit code is the verdict.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "health.h"
#include "observe.h"

namespace gpu_agent {

const char* const kStatusHelp = R"(Usage: gpu-agent [--config FILE] status [--json] [--status-file PATH]

Is the daemon (`gpu-agent run`) healthy? Reads the status it writes after
every pass ([agent] state_dir/status.json) and prints the verdict and why, the
last pass, each pool as the host and Placement see it, and the problems on the
GPUs. Reads no sysfs and asks Placement nothing: it works as a monitoring
check (Nagios, Icinga, an Ansible assert) and on a node in trouble.

Options:
  --json               the verdict, the reasons and the whole status as JSON
  --status-file PATH   read this file instead of [agent] state_dir/status.json

Exit codes (the verdict):
  0 healthy   the last pass succeeded, recently, and every GPU of every pool
              is assignable
  1 degraded  some GPUs are not assignable, the last pass failed after earlier
              successes, or the last pass (or success) is older than 3 intervals
  2 failing   no successful pass since the daemon started, the daemon stopped
              on refused credentials or a bad config, no status file yet, or
              this command's own config is bad
)";

int cmd_status(const std::vector<std::string>& argv, const std::optional<std::string>& config_path, std::ostream& out,
               std::ostream& err) {
  Args a;
  if (auto e = parse_args(argv, 1, {"status-file"}, {"json"}, {}, a)) return usage_error(err, argv[0], *e);
  if (a.help) return show_help(out, kStatusHelp, false);
  const bool json = a.flags.count("json") > 0;
  std::string path;
  if (auto p = value(a, "status-file")) {
    path = *p;
  } else {
    auto cfg = load_config_for(config_path);
    if (!cfg) {
      // A config the daemon cannot start with: failing, and the message says where.
      const Health h{Health::Level::failing, {cfg.error().message}};
      if (json) out << health_to_json(nullptr, h, unix_time_now(), "");
      return fail(err, argv[0], cfg.error());
    }
    path = status_file_path(*cfg);
  }
  const double now = unix_time_now();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    const std::string why =
        e == ENOENT ? "no status file " + path +
                          ": the daemon has not finished a pass yet (is it running? systemctl status gpu-agent; "
                          "with another state_dir, pass --config or --status-file)"
                    : "cannot read the status file " + path + ": " + std::strerror(e) +
                          " (run as root or as the gpu-agent user)";
    const Health h{Health::Level::failing, {why}};
    if (json) out << health_to_json(nullptr, h, now, path);
    else out << "gpu-agent: failing\n  - " << why << "\n";
    return exit_code(h);
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto st = status_from_json(text.str(), path);
  if (!st) {
    const Health h{Health::Level::failing,
                   {st.error().message + " (the daemon rewrites it after its next pass; if this stays, remove it and "
                                         "restart gpu-agent)"}};
    if (json) out << health_to_json(nullptr, h, now, path);
    else out << "gpu-agent: failing\n  - " << h.reasons.front() << "\n";
    return exit_code(h);
  }
  const Health h = judge_health(*st, now);
  if (json) out << health_to_json(&*st, h, now, path);
  else out << status_to_text(*st, h, now, path);
  return exit_code(h);
}

}  // namespace gpu_agent
