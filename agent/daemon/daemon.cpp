#include "daemon.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>

#include "parse.h"

namespace gpu_agent {
namespace {

sigset_t daemon_signals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGHUP);
  return s;
}

bool g_stop = false;

// Wait up to `seconds` for a signal. Returns the signal, or 0 on timeout.
int wait_signal(double seconds) {
  const sigset_t set = daemon_signals();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(seconds);
  ts.tv_nsec = static_cast<long>((seconds - std::floor(seconds)) * 1e9);
  for (;;) {
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EAGAIN) return 0;
    if (errno != EINTR) return 0;
  }
}

}  // namespace

double Backoff::next() {
  const double cap = std::min(max_, min_ * std::pow(2.0, std::min(attempt_ + 1, 30)));
  ++attempt_;
  std::uniform_real_distribution<double> d(min_, std::max(min_, cap));
  return d(rng_);
}

double jittered(double interval_s, double jitter, std::mt19937_64& rng) {
  if (jitter <= 0) return interval_s;
  std::uniform_real_distribution<double> d(1.0 - jitter, 1.0 + jitter);
  return interval_s * d(rng);
}

int first_pass_requests(bool first_deployment, bool compute_id) {
  if (!first_deployment) return 1;
  return compute_id ? 4 : 5;
}

double resolve_splay(std::optional<double> configured, double interval_s, bool under_systemd, bool bounded_run,
                     int first_pass_requests) {
  if (configured) return std::max(0.0, *configured);
  if (!under_systemd || bounded_run) return 0;
  const double for_2x = static_cast<double>(first_pass_requests) / (2 * kSteadyRequestsPerPass);
  return std::max(kAutoSplayIntervals, for_2x) * interval_s;
}

double first_wait_after_splay(double window_s, double elapsed_s, double interval_s, double wait_s) {
  if (!(interval_s > 0) || !(window_s > interval_s)) return wait_s;
  const double short_by = window_s - (elapsed_s + wait_s);
  if (short_by <= 0) return wait_s;
  return wait_s + std::ceil(short_by / interval_s) * interval_s;
}

double splay_delay(double window_s, std::mt19937_64& rng) {
  if (!(window_s > 0)) return 0;
  std::uniform_real_distribution<double> d(0, window_s);
  return d(rng);
}

void block_daemon_signals() {
  const sigset_t set = daemon_signals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

bool stop_requested() {
  if (g_stop) return true;
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)) g_stop = true;
  return g_stop;
}

namespace {

PassOutcome stopped_by_signal(int sig, Log& log) {
  log.info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + "; exiting");
  return {PassOutcome::Kind::stopped, "stop signal", false, {}, {}};
}

double steady_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

PassOutcome run_daemon(const DaemonHooks& hooks, Log& log) {
  const auto wait_for = hooks.wait ? hooks.wait : wait_signal;
  const auto now = hooks.now ? hooks.now : steady_now;
  std::mt19937_64 rng(hooks.seed ? *hooks.seed
                                 : static_cast<uint64_t>(std::time(nullptr)) ^ reinterpret_cast<uintptr_t>(&hooks));
  Backoff backoff(hooks.retry_min(), hooks.retry_max(), rng());
  // WATCHDOG=1 at least every keep_alive_every s while waiting (daemon.h).
  const double every = hooks.keep_alive && hooks.keep_alive_every > 0 ? hooks.keep_alive_every : 0;
  double last_keep_alive = now();  // systemd's watchdog counts from the start
  auto keep_alive = [&] {
    hooks.keep_alive();
    last_keep_alive = now();
  };
  // Sleeps `wait` s unless a signal comes: 0 = slept it out (or SIGHUP
  // reloaded and `hup_ends_wait`), else the stop signal. Under the watchdog
  // the wait is cut into slices that end when the next keep-alive is due.
  auto sleep = [&](double wait, bool hup_ends_wait) -> int {
    for (;;) {
      const double start = now();
      const double slice = every > 0 ? std::min(wait, std::max(0.0, last_keep_alive + every - start)) : wait;
      const int sig = wait_for(slice);
      if (sig == 0 && slice >= wait) return 0;
      if (sig == 0) {  // a keep-alive is due, the wait goes on
        keep_alive();
        wait -= slice;
        continue;
      }
      if (sig == SIGTERM || sig == SIGINT) return sig;
      if (sig == SIGHUP) {
        std::string error;
        if (hooks.reload(error)) {
          log.info("SIGHUP: configuration reloaded; reconciling now");
          backoff = Backoff(hooks.retry_min(), hooks.retry_max(), rng());
          if (hup_ends_wait) return 0;
        } else {
          log.error("SIGHUP: configuration not reloaded, keeping the old one and carrying on: " + error);
        }
      }
      wait = std::max(0.0, wait - (now() - start));
    }
  };
  const double started = now();
  bool steady = false;  // an ok pass has been made: the start-up window is behind
  if (const double delay = splay_delay(hooks.splay, rng); delay > 0) {
    log.info("start-up splay: first pass in " + std::to_string(static_cast<long>(std::ceil(delay))) + " s (of up to " +
             std::to_string(static_cast<long>(std::ceil(hooks.splay))) + " s; [agent] splay)");
    if (int sig = sleep(delay, false)) return stopped_by_signal(sig, log);
  }
  uint64_t passes = 0;
  for (;;) {
    if (stop_requested()) {
      log.info("stop signal received; exiting");
      return {PassOutcome::Kind::stopped, "stop signal", false, {}, {}};
    }
    PassOutcome out = hooks.pass();
    last_keep_alive = now();  // the pass ended with its own WATCHDOG=1
    ++passes;
    double wait = 0;
    switch (out.kind) {
      case PassOutcome::Kind::ok:
        if (backoff.attempts() > 0)
          log.info("placement reachable again; back to every " + seconds_text(hooks.interval()));
        backoff.reset();
        wait = jittered(hooks.interval(), hooks.jitter(), rng);
        if (!steady) {
          steady = true;
          const double drawn = wait;
          wait = first_wait_after_splay(hooks.splay, now() - started, hooks.interval(), wait);
          if (wait > drawn)
            log.debug("next pass in " + seconds_text(wait) + ", after the start-up window ([agent] splay)");
        }
        break;
      case PassOutcome::Kind::retry:
        wait = backoff.next();
        log.warning(out.message + "; retrying in " + seconds_text(wait));
        break;
      case PassOutcome::Kind::fatal: log.error(out.message); return out;
      case PassOutcome::Kind::stopped:
        log.info("stop signal received during a pass; request in flight cancelled; exiting");
        return out;
    }
    if (hooks.max_passes && passes >= hooks.max_passes) return {PassOutcome::Kind::ok, "max passes", false, {}, {}};
    // Sleep until the next pass, a reload, or a stop.
    if (int sig = sleep(wait, true)) return stopped_by_signal(sig, log);
  }
}

}  // namespace gpu_agent
