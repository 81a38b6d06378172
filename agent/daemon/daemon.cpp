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
  const double cap = std::min(max_, min_ * std::pow(2.0, std::min(attempt_, 30)));
  ++attempt_;
  std::uniform_real_distribution<double> d(min_, std::max(min_, cap));
  return d(rng_);
}

double jittered(double interval_s, double jitter, std::mt19937_64& rng) {
  if (jitter <= 0) return interval_s;
  std::uniform_real_distribution<double> d(1.0 - jitter, 1.0 + jitter);
  return interval_s * d(rng);
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

PassOutcome run_daemon(const DaemonHooks& hooks, Log& log) {
  std::mt19937_64 rng(static_cast<uint64_t>(std::time(nullptr)) ^ reinterpret_cast<uintptr_t>(&rng));
  Backoff backoff(hooks.retry_min(), hooks.retry_max(), rng());
  uint64_t passes = 0;
  for (;;) {
    if (stop_requested()) {
      log.info("stop signal received; exiting");
      return {PassOutcome::Kind::stopped, "stop signal", false, {}, {}};
    }
    PassOutcome out = hooks.pass();
    ++passes;
    double wait = 0;
    switch (out.kind) {
      case PassOutcome::Kind::ok:
        if (backoff.attempts() > 0)
          log.info("placement reachable again; back to every " + seconds_text(hooks.interval()));
        backoff.reset();
        wait = jittered(hooks.interval(), hooks.jitter(), rng);
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
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      int sig = wait_signal(wait);
      if (sig == 0) break;
      if (sig == SIGTERM || sig == SIGINT) {
        log.info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + "; exiting");
        return {PassOutcome::Kind::stopped, "stop signal", false, {}, {}};
      }
      if (sig == SIGHUP) {
        std::string error;
        if (hooks.reload(error)) {
          log.info("SIGHUP: configuration reloaded; reconciling now");
          backoff = Backoff(hooks.retry_min(), hooks.retry_max(), rng());
          break;
        }
        log.error("SIGHUP: configuration not reloaded, keeping the old one and carrying on: " + error);
      }
      const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      wait = std::max(0.0, wait - spent);
    }
  }
}

}  // namespace gpu_agent
