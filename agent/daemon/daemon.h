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

// Capped exponential backoff with full jitter: attempt n (from 0) waits
// uniformly in [min, min*2^(n+1)] capped at max, so even the first retry after
// an outage is spread over [min, 2*min] and, once at the cap, over [min, max].
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

// The start-up delay: [agent] splay / `run --splay`, unset = auto.
// Auto applies when the process runs under systemd (INVOCATION_ID set: a
// rollout or a power-on starts a whole fleet at once), else it is 0; a bounded
// run (--max-passes, tests and benchmarks) never splays on auto. It is sized
// from what a node's first pass costs (BENCHMARKS.md, "Fleet"): N nodes'
// first passes of c requests spread over S seconds peak at N x c / S, the
// steady rate is N x r / interval (r = 1: one request a pass), so Placement
// stays within 2x of steady once S >= interval x c / 2:
// * a restart (state.json holds the resume point): c = 1, the tree GET, so
//   half an interval would do; one interval leaves room for the noise;
// * a first deployment (no resume point): c = 4 with nova's compute_id (the
//   tree, the pool, its inventory, its traits), 5 without it (the lookup by
//   name first), so 2 or 2.5 intervals; the nodes that started early skip
//   their steady passes until the window is over (first_wait_after_splay).
constexpr double kAutoSplayIntervals = 1.0;     // the least auto window
constexpr double kSteadyRequestsPerPass = 1.0;  // r
int first_pass_requests(bool first_deployment, bool compute_id);
double resolve_splay(std::optional<double> configured, double interval_s, bool under_systemd, bool bounded_run,
                     int first_pass_requests = 1);
// The wait before the second pass (after the first that went well), `elapsed_s`
// after the daemon started. When the start-up window is longer than an
// interval, whole intervals are added until that pass falls after the window:
// the nodes that started early send no steady-state pass while others still
// make their first (the two would add up at Placement), and each node keeps
// its phase (elapsed + wait, modulo the interval). Else `wait_s` as it is.
double first_wait_after_splay(double window_s, double elapsed_s, double interval_s, double wait_s);
// A draw in [0, window] (0 for a window <= 0, drawing nothing).
double splay_delay(double window_s, std::mt19937_64& rng);

struct DaemonHooks {
  std::function<PassOutcome()> pass;
  std::function<bool(std::string& error)> reload;  // SIGHUP; false keeps the old config
  std::function<double()> interval;                // seconds, read after each reload
  std::function<double()> jitter;
  std::function<double()> retry_min;
  std::function<double()> retry_max;
  // for tests: stop after this many passes (0 = run until a signal)
  uint64_t max_passes = 0;
  // Window of the random delay before the first pass (resolve_splay); 0 = none.
  double splay = 0;
  // systemd's watchdog (WatchdogSec): while the loop waits (the splay, the
  // interval, a retry's backoff), keep_alive (WATCHDOG=1) is called whenever
  // keep_alive_every seconds (half WatchdogSec) have passed since the last one
  // or since the end of a pass (which says WATCHDOG=1 itself: after_pass), so
  // no wait is too long for the watchdog and it times the passes. 0 = off.
  std::function<void()> keep_alive;
  double keep_alive_every = 0;
  // Injected for tests (unset: the real ones). wait: block up to `seconds` for
  // SIGTERM/SIGINT/SIGHUP, return the signal or 0 on timeout; now: a monotonic
  // clock in seconds; seed: the random source behind splay, jitter and backoff.
  std::function<int(double seconds)> wait;
  std::function<double()> now;
  std::optional<uint64_t> seed;
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
