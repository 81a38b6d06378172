#pragma once
// What `gpu-agent run` does after every pass so it can be watched: fold the
// outcome into the AgentStatus, write status.json (state_dir) and the
// Prometheus metrics file ([agent] metrics_file, --metrics-file), both
// atomically, hand the metrics to the loopback listener when there is one,
// and tell systemd (READY=1, WATCHDOG=1, STATUS=; WATCHDOG=1 while waiting too). A file that
// cannot be written is logged once (and again when it changes or recovers);
// it never fails the pass.
#include <string>

#include "agent_status.h"
#include "daemon.h"
#include "log.h"
#include "metrics_server.h"
#include "notify.h"

namespace gpu_agent {

double unix_time_now();

class PassObserver {
 public:
  // status_path: where status.json goes; metrics_path: "" for no metrics file.
  PassObserver(AgentStatus initial, std::string status_path, std::string metrics_path, Log& log);
  // SIGHUP: new paths and interval (the totals are kept).
  void reconfigure(std::string status_path, std::string metrics_path, double interval);
  void after_pass(const PassOutcome& o, double ended_at, double duration);
  // WATCHDOG=1 while the daemon waits (DaemonHooks::keep_alive).
  void keep_alive();
  // The daemon is exiting.
  void stopping(const std::string& why);
  // The loopback listener ([agent] metrics_listen) that serves the metrics too; null for none.
  void serve_with(MetricsServer* server) { server_ = server; }
  const AgentStatus& status() const { return status_; }
  SystemdNotifier& notifier() { return notifier_; }

 private:
  void notified(const std::string& error);  // logs a failure to tell systemd once per cause
  void write(const char* what, const std::string& path, const std::string& text, unsigned mode, const char* fix,
             std::string& last_error);
  AgentStatus status_;
  std::string status_path_, metrics_path_;
  Log& log_;
  SystemdNotifier notifier_;
  MetricsServer* server_ = nullptr;
  std::string status_error_, metrics_error_, notify_error_;
};

}  // namespace gpu_agent
