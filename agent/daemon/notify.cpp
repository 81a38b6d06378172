#include "notify.h"

#include "shared_library.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

namespace gpu_agent {
namespace {

// libsystemd is loaded on first use, not linked: it and what it pulls in
// (libgcrypt, libzstd, liblz4, liblzma, libcap) cost every command start-up
// time and ~0.8 MB of resident memory, and only a daemon under systemd (with
// $NOTIFY_SOCKET or $WATCHDOG_USEC set) ever calls it.
struct Libsystemd {
  decltype(&::sd_notify) notify = nullptr;
  decltype(&::sd_watchdog_enabled) watchdog_enabled = nullptr;
  std::string error;  // why it could not be loaded
};

const Libsystemd& libsystemd() {
  static const Libsystemd ls = [] {
    Libsystemd l;
    void* lib = shared_library::open("libsystemd.so.0", "libsystemd", "install libsystemd0", l.error);
    if (lib && !(shared_library::bind(lib, "sd_notify", l.notify) &&
                 shared_library::bind(lib, "sd_watchdog_enabled", l.watchdog_enabled))) {
      l.notify = nullptr;
      l.watchdog_enabled = nullptr;
      l.error =
          "libsystemd is not installed (libsystemd.so.0 lacks sd_notify or sd_watchdog_enabled); install libsystemd0";
    }
    return l;
  }();
  return ls;
}

bool set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  enabled_ = set("NOTIFY_SOCKET");
  if (!set("WATCHDOG_USEC") || !libsystemd().error.empty()) return;
  uint64_t usec = 0;
  if (libsystemd().watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_s_ = static_cast<double>(usec) / 1e6;
}

std::string SystemdNotifier::send(const std::string& message) {
  if (!enabled_) return "";
  const std::string& missing = libsystemd().error;
  const int r = missing.empty() ? libsystemd().notify(0, message.c_str()) : -ENOSYS;
  if (r < 0)
    return "cannot notify systemd through $NOTIFY_SOCKET (" + (missing.empty() ? std::strerror(-r) : missing) +
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
