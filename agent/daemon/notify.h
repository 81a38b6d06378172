#pragma once
// systemd's notification protocol, through libsystemd's sd_notify (the
// reference implementation: abstract and path sockets, credentials, the
// watchdog's environment), loaded only when systemd set $NOTIFY_SOCKET or
// $WATCHDOG_USEC. Under Type=notify the daemon says READY=1 after its
// first pass, WATCHDOG=1 after every pass and every half WatchdogSec while it
// waits, and a STATUS= line that
// `systemctl status gpu-agent` shows. Without $NOTIFY_SOCKET (a foreground run,
// the tests) every call does nothing.
#include <cstdint>
#include <optional>
#include <string>

namespace gpu_agent {

class SystemdNotifier {
 public:
  SystemdNotifier();
  // Whether systemd is listening ($NOTIFY_SOCKET was set at start).
  bool enabled() const { return enabled_; }
  // The watchdog timeout systemd expects pings within ($WATCHDOG_USEC for
  // this pid), in seconds; nullopt when the watchdog is off.
  std::optional<double> watchdog_seconds() const { return watchdog_s_; }

  // After each pass: READY=1 the first time, WATCHDOG=1, STATUS=line.
  // Returns the error text when systemd could not be told (else "").
  std::string after_pass(const std::string& status);
  // READY=1 before the first pass, with STATUS=line: under a start-up splay,
  // so that `systemctl start` (and a restart, and an upgrade's postinst) does
  // not wait for the whole random delay.
  std::string ready_before_first_pass(const std::string& status);
  // WATCHDOG=1 alone: while the daemon waits (the start-up splay, the
  // interval, a retry's backoff), every half watchdog timeout; nothing when
  // the watchdog is off.
  std::string keep_alive();
  std::string stopping(const std::string& why);  // the daemon is exiting

 private:
  std::string send(const std::string& message);
  bool enabled_ = false;
  bool ready_sent_ = false;
  std::optional<double> watchdog_s_;
};

// A pass that takes longer than this is slow (Placement at its request
// timeouts). The watchdog may go half WatchdogSec (a keep-alive's period)
// plus a pass without WATCHDOG=1, so WatchdogSec must be twice a slow pass.
constexpr double kSlowPassSeconds = 60;
// The warning when WatchdogSec cannot cover that, else "". Waits of any length
// (splay, interval, backoff) are covered by the keep-alives.
std::string watchdog_mismatch(std::optional<double> watchdog_s);

}  // namespace gpu_agent
