#include "notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

namespace gpu_agent {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket && *socket;
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_s_ = static_cast<double>(usec) / 1e6;
}

std::string SystemdNotifier::send(const std::string& message) {
  if (!enabled_) return "";
  const int r = sd_notify(0, message.c_str());
  if (r < 0)
    return std::string("cannot notify systemd through $NOTIFY_SOCKET (") + std::strerror(-r) +
           "); `systemctl status gpu-agent` will not show the agent's state";
  return "";
}

std::string SystemdNotifier::after_pass(const std::string& status) {
  std::string m;
  if (!ready_sent_) m += "READY=1\n";
  if (watchdog_s_) m += "WATCHDOG=1\n";
  m += "STATUS=" + status;
  std::string err = send(m);
  if (err.empty()) ready_sent_ = true;
  return err;
}

std::string SystemdNotifier::ready_before_first_pass(const std::string& status) {
  std::string err = send("READY=1\nSTATUS=" + status);
  if (err.empty()) ready_sent_ = true;
  return err;
}

std::string SystemdNotifier::keep_alive() { return watchdog_s_ ? send("WATCHDOG=1") : ""; }

std::string SystemdNotifier::stopping(const std::string& why) { return send("STOPPING=1\nSTATUS=stopping: " + why); }

std::string watchdog_mismatch(std::optional<double> watchdog_s) {
  const long needed = static_cast<long>(2 * kSlowPassSeconds);
  if (!watchdog_s || *watchdog_s >= static_cast<double>(needed)) return "";
  return "WatchdogSec=" + std::to_string(static_cast<long>(*watchdog_s)) + " s leaves less than a slow pass (" +
         std::to_string(static_cast<long>(kSlowPassSeconds)) +
         " s: Placement at its request timeouts) after the half of it the agent may wait between keep-alives: "
         "systemd would restart a healthy agent; set WatchdogSec=" +
         std::to_string(needed) + " or more (systemctl edit gpu-agent)";
}

}  // namespace gpu_agent
