#include "observe.h"

#include <sys/stat.h>

#include <chrono>

#include "atomic_file.h"
#include "fs.h"
#include "metrics.h"

namespace gpu_agent {

double unix_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

PassObserver::PassObserver(AgentStatus initial, std::string status_path, std::string metrics_path, Log& log)
    : status_(std::move(initial)),
      status_path_(std::move(status_path)),
      metrics_path_(std::move(metrics_path)),
      log_(log) {}

void PassObserver::reconfigure(std::string status_path, std::string metrics_path, double interval) {
  status_path_ = std::move(status_path);
  metrics_path_ = std::move(metrics_path);
  status_.interval = interval;
  status_error_.clear();
  metrics_error_.clear();
}

void PassObserver::write(const char* what, const std::string& path, const std::string& text, unsigned mode,
                         const char* fix, std::string& last_error) {
  auto w = write_file_atomically(path, text, mode);
  if (w) {
    if (!last_error.empty()) log_.info(std::string(what) + " " + path + " written again");
    last_error.clear();
    return;
  }
  const std::string m = "cannot write the " + std::string(what) + ": " + w.error().message + "; " + fix;
  if (m != last_error) log_.warning(m);
  last_error = m;
}

void PassObserver::after_pass(const PassOutcome& o, double ended_at, double duration) {
  record_pass(status_, o, ended_at, duration);
  if (!status_path_.empty()) {
    const std::string dir(dir_name(status_path_));
    if (!dir.empty()) ::mkdir(dir.c_str(), 0750);  // one level, like save_state
    write("status file", status_path_, status_to_json(status_), 0640,
          "`gpu-agent status` reads it: check [agent] state_dir exists and the agent's user may write it",
          status_error_);
  }
  const std::string metrics = metrics_path_.empty() && !server_ ? std::string() : render_metrics(status_);
  if (server_) server_->publish(metrics);
  if (!metrics_path_.empty())
    write("metrics file", metrics_path_, metrics, 0644,
          "create its directory (node_exporter's --collector.textfile.directory), let the agent's user write "
          "there (the unit's ReadWritePaths), or change [agent] metrics_file / --metrics-file",
          metrics_error_);
  notified(notifier_.after_pass(status_line(status_)));
}

void PassObserver::keep_alive() { notified(notifier_.keep_alive()); }

void PassObserver::notified(const std::string& error) {
  if (!error.empty() && error != notify_error_) log_.warning(error);
  notify_error_ = error;
}

void PassObserver::stopping(const std::string& why) { (void)notifier_.stopping(why); }

}  // namespace gpu_agent
