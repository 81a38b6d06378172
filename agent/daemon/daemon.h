#pragma once
// The `gpu-agent run` loop: a reconcile pass every interval (with jitter so a
// rack of nodes does not hit placement in step), quick retries with capped
// exponential backoff while placement or keystone is unreachable or nova has
// not created the compute node yet, SIGHUP to reload the config, SIGTERM or
// SIGINT to cancel the request in flight and exit 0.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "log.h"
#include "observation.h"

namespace gpu_agent {

// What one pass cost: requests sent, of which writes; steps planned.
struct PassStats {
  uint64_t requests = 0, writes = 0;
  size_t planned = 0;
  bool quick = false;  // answered by the one-GET steady-state check
  // The same requests by (method, HTTP status; 0 = no answer), and the 409s
  // among them by placement's error code; tokens asked of keystone.
  std::map<std::pair<std::string, int>, uint64_t> by_status;
  std::map<std::string, uint64_t> conflicts;
  uint64_t token_requests = 0;
};

// How a pass ended, returned by the pass (never read from a side channel).
struct PassOutcome {
  enum class Kind {
    ok,       // reconciled (or nothing to do): wait a full interval
    retry,    // transient (unreachable, 5xx, timeout, root not there yet): back off and retry
    fatal,    // will not get better by retrying (credentials refused): exit 1
    stopped,  // a stop signal arrived between requests
  } kind = Kind::ok;
  std::string message;
  bool config_error = false;  // fatal because of the configuration: exit 2
  PassStats stats;
  // The host and its pools as this pass saw them (unset when the host could
  // not be read); pools carry Placement's values as last read or written.
  std::optional<HostObservation> observed;
};

// Capped exponential backoff with full jitter: [min, min*2^n] capped at max.
class Backoff {
 public:
  Backoff(double min_s, double max_s, uint64_t seed) : min_(min_s), max_(max_s), rng_(seed) {}
  double next();  // seconds to wait before the next try
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  double min_, max_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

// interval * (1 +- jitter), uniformly.
double jittered(double interval_s, double jitter, std::mt19937_64& rng);

struct DaemonHooks {
  std::function<PassOutcome()> pass;
  std::function<bool(std::string& error)> reload;  // SIGHUP; false keeps the old config
  std::function<double()> interval;                // seconds, read after each reload
  std::function<double()> jitter;
  std::function<double()> retry_min;
  std::function<double()> retry_max;
  // for tests: stop after this many passes (0 = run until a signal)
  uint64_t max_passes = 0;
};

// Blocks SIGTERM, SIGINT and SIGHUP for the process and waits for them with
// sigtimedwait, so a signal never interrupts a request half-way.
void block_daemon_signals();
// True once SIGTERM or SIGINT is pending (consumes nothing else).
bool stop_requested();

// Runs passes until a stop signal, a fatal pass or max_passes; returns the
// outcome that ended it (the CLI turns it into the exit code).
PassOutcome run_daemon(const DaemonHooks& hooks, Log& log);

}  // namespace gpu_agent
