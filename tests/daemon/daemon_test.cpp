// The daemon's waits: capped exponential backoff with full jitter between
// retries, the interval with +-jitter between passes, and the start-up splay.
// Seeded generators, many draws: bounds, growth, the cap, and that the values
// really vary; then run_daemon itself with an injected clock, wait and seed.
#define BOOST_TEST_MODULE daemon
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "daemon.h"

using gpu_agent::Backoff;
using gpu_agent::DaemonHooks;
using gpu_agent::jittered;
using gpu_agent::PassOutcome;
using gpu_agent::resolve_splay;
using gpu_agent::splay_delay;

namespace {

constexpr int kSeeds = 500;

// Draw n (0-based) of a fresh Backoff(min, max, seed), for seeds 1..kSeeds.
std::vector<double> nth_draws(double min, double max, int n) {
  std::vector<double> out;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Backoff b(min, max, seed);
    for (int i = 0; i < n; ++i) b.next();
    out.push_back(b.next());
  }
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(every_draw_is_within_min_and_min_times_2_to_the_n_capped_at_max) {
  for (const auto& [min, max] : std::vector<std::pair<double, double>>{{1, 60}, {0.5, 300}, {0.01, 86400}, {5, 7}}) {
    BOOST_TEST_CONTEXT("min " << min << " max " << max) {
      for (uint64_t seed = 1; seed <= 100; ++seed) {
        Backoff b(min, max, seed);
        for (int n = 0; n < 80; ++n) {
          const double bound = std::min(max, min * std::pow(2.0, n + 1));
          const double w = b.next();
          BOOST_TEST_REQUIRE(w >= min, "draw " << n << " seed " << seed << ": " << w);
          BOOST_TEST_REQUIRE(w <= bound, "draw " << n << " seed " << seed << ": " << w << " > " << bound);
          BOOST_TEST_REQUIRE(w <= max);
          BOOST_TEST_REQUIRE(std::isfinite(w));
        }
        BOOST_TEST(b.attempts() == 80);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(first_retry_is_jittered_over_min_to_twice_min) {
  // [min, min * 2^1]: nodes that lost Placement together do not retry in step.
  const auto v = nth_draws(1.5, 60, 0);
  for (double w : v) {
    BOOST_TEST_REQUIRE(w >= 1.5);
    BOOST_TEST_REQUIRE(w <= 3.0);
  }
  BOOST_TEST(*std::min_element(v.begin(), v.end()) < 1.6);
  BOOST_TEST(*std::max_element(v.begin(), v.end()) > 2.9);
  BOOST_TEST(std::set<double>(v.begin(), v.end()).size() > static_cast<size_t>(kSeeds * 9 / 10));
}

BOOST_AUTO_TEST_CASE(the_range_doubles_with_each_attempt) {
  // min 1, max 1000: draw n is uniform in [1, 2^(n+1)] until that passes 1000.
  double last_mean = 1;
  for (int n = 0; n <= 8; ++n) {
    BOOST_TEST_CONTEXT("draw " << n) {
      const auto v = nth_draws(1, 1000, n);
      const double top = std::pow(2.0, n + 1);
      const double hi = *std::max_element(v.begin(), v.end());
      BOOST_TEST(hi <= top);
      BOOST_TEST(hi > 1 + 0.95 * (top - 1));          // the top of the range is reached...
      if (n >= 1) BOOST_TEST(hi > std::pow(2.0, n));  // ...beyond the previous attempt's range
      const double m = mean(v);
      BOOST_TEST(std::abs(m - (1 + top) / 2) < 0.1 * top);  // uniform: mean halfway
      BOOST_TEST(m > last_mean);
      last_mean = m;
    }
  }
}

BOOST_AUTO_TEST_CASE(full_jitter_uses_the_whole_range) {
  // Not "half fixed, half random": draws land near min as well as near the top.
  const auto v = nth_draws(1, 1000, 5);  // [1, 64]
  const auto low = std::count_if(v.begin(), v.end(), [](double w) { return w < 8; });
  const auto lower_half = std::count_if(v.begin(), v.end(), [](double w) { return w < 32.5; });
  BOOST_TEST(low > 0);
  BOOST_TEST(std::abs(static_cast<double>(lower_half) / kSeeds - 0.5) < 0.1);
  BOOST_TEST(std::set<double>(v.begin(), v.end()).size() > static_cast<size_t>(kSeeds * 9 / 10));
}

BOOST_AUTO_TEST_CASE(the_cap_is_reached_and_held) {
  // min 1, max 60: from draw 5 on (2^6 = 64) the range is [1, 60].
  for (int n : {5, 6, 10, 29, 30, 100}) {
    BOOST_TEST_CONTEXT("draw " << n) {
      const auto v = nth_draws(1, 60, n);
      const double hi = *std::max_element(v.begin(), v.end());
      BOOST_TEST(hi <= 60);
      BOOST_TEST(hi > 57);
      BOOST_TEST(std::abs(mean(v) - 30.5) < 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(min_equal_to_max_never_varies) {
  Backoff b(10, 10, 7);
  for (int n = 0; n < 40; ++n) BOOST_TEST(b.next() == 10);
}

BOOST_AUTO_TEST_CASE(reset_starts_again_from_min) {
  Backoff b(2, 60, 42);
  for (int n = 0; n < 10; ++n) b.next();
  BOOST_TEST(b.attempts() == 10);
  b.reset();
  BOOST_TEST(b.attempts() == 0);
  const double first = b.next();
  BOOST_TEST(first >= 2);
  BOOST_TEST(first <= 4);
  const double second = b.next();
  BOOST_TEST(second >= 2);
  BOOST_TEST(second <= 8);
  BOOST_TEST(b.attempts() == 2);
}

BOOST_AUTO_TEST_CASE(a_seed_gives_one_sequence_and_seeds_differ) {
  Backoff a(1, 60, 1234), b(1, 60, 1234), c(1, 60, 1235);
  std::vector<double> va, vb, vc;
  for (int n = 0; n < 20; ++n) {
    va.push_back(a.next());
    vb.push_back(b.next());
    vc.push_back(c.next());
  }
  BOOST_TEST(va == vb);
  BOOST_TEST(va != vc);  // so nodes started together do not retry in step
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(jitter)

BOOST_AUTO_TEST_CASE(no_jitter_is_exactly_the_interval_and_draws_nothing) {
  std::mt19937_64 rng(99);
  const std::mt19937_64 before = rng;
  for (double interval : {1.0, 60.0, 3600.0, 86400.0}) {
    BOOST_TEST(jittered(interval, 0, rng) == interval);
    BOOST_TEST(jittered(interval, -0.5, rng) == interval);  // negative reads as none
  }
  BOOST_TEST((rng == before));
}

BOOST_AUTO_TEST_CASE(within_interval_times_one_plus_minus_jitter_and_varies) {
  for (const auto& [interval, jitter] : std::vector<std::pair<double, double>>{{60, 0.1}, {300, 0.25}, {1, 0.5}}) {
    BOOST_TEST_CONTEXT("interval " << interval << " jitter " << jitter) {
      std::mt19937_64 rng(2024);
      const double lo = interval * (1 - jitter), hi = interval * (1 + jitter);
      std::vector<double> v;
      for (int i = 0; i < 10000; ++i) {
        const double w = jittered(interval, jitter, rng);
        BOOST_TEST_REQUIRE(w >= lo, w);
        BOOST_TEST_REQUIRE(w <= hi, w);
        v.push_back(w);
      }
      const double span = hi - lo;
      BOOST_TEST(*std::min_element(v.begin(), v.end()) < lo + 0.01 * span);  // both ends are reached
      BOOST_TEST(*std::max_element(v.begin(), v.end()) > hi - 0.01 * span);
      BOOST_TEST(std::abs(mean(v) - interval) < 0.02 * span);  // centred on the interval
      BOOST_TEST(std::set<double>(v.begin(), v.end()).size() > 9900u);
      const auto below = std::count_if(v.begin(), v.end(), [&](double w) { return w < interval; });
      BOOST_TEST(std::abs(static_cast<double>(below) / 10000 - 0.5) < 0.03);
    }
  }
}

BOOST_AUTO_TEST_CASE(full_jitter_of_one_can_wait_almost_nothing) {
  // jitter = 1 is the most the config allows: [0, 2 * interval].
  std::mt19937_64 rng(5);
  double lowest = 1e9;
  for (int i = 0; i < 10000; ++i) {
    const double w = jittered(60, 1, rng);
    BOOST_TEST_REQUIRE(w >= 0);
    BOOST_TEST_REQUIRE(w <= 120);
    lowest = std::min(lowest, w);
  }
  BOOST_TEST(lowest < 0.1);
}

BOOST_AUTO_TEST_CASE(same_seed_same_waits) {
  std::mt19937_64 a(77), b(77);
  for (int i = 0; i < 100; ++i) BOOST_TEST(jittered(60, 0.1, a) == jittered(60, 0.1, b));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(splay)

BOOST_AUTO_TEST_CASE(auto_is_one_interval_under_systemd_and_nothing_elsewhere) {
  BOOST_TEST(resolve_splay(std::nullopt, 60, true, false) == 60 * gpu_agent::kAutoSplayIntervals);
  BOOST_TEST(resolve_splay(std::nullopt, 300, true, false) == 300 * gpu_agent::kAutoSplayIntervals);
  BOOST_TEST(resolve_splay(std::nullopt, 60, false, false) == 0);  // a foreground run starts at once
  BOOST_TEST(resolve_splay(std::nullopt, 60, true, true) == 0);    // a bounded run (--max-passes) never waits
}

BOOST_AUTO_TEST_CASE(auto_on_a_first_deployment_is_half_an_interval_per_first_pass_request) {
  // No resume point: the first pass creates the pools: 4 requests when nova's
  // compute_id names the root (its tree, the pool, its inventory, its traits),
  // 5 without it (the lookup by name first). Steady state is 1 request a pass,
  // so 2x of steady needs c / 2 intervals.
  using gpu_agent::first_pass_requests;
  BOOST_TEST(first_pass_requests(true, true) == 4);
  BOOST_TEST(first_pass_requests(true, false) == 5);
  BOOST_TEST(first_pass_requests(false, true) == 1);
  BOOST_TEST(first_pass_requests(false, false) == 1);
  BOOST_TEST(resolve_splay(std::nullopt, 60, true, false, first_pass_requests(true, true)) == 120);
  BOOST_TEST(resolve_splay(std::nullopt, 60, true, false, first_pass_requests(true, false)) == 150);
  BOOST_TEST(resolve_splay(std::nullopt, 60, true, false, first_pass_requests(false, true)) == 60);  // a restart
  BOOST_TEST(resolve_splay(std::nullopt, 60, false, false, 5) == 0);  // not under systemd
  BOOST_TEST(resolve_splay(std::nullopt, 60, true, true, 5) == 0);    // bounded run
  BOOST_TEST(resolve_splay(30.0, 60, true, false, 5) == 30);          // seconds given win
}

BOOST_AUTO_TEST_CASE(the_second_pass_waits_for_the_end_of_a_window_longer_than_an_interval) {
  using gpu_agent::first_wait_after_splay;
  // window 120 s, interval 60: a node that started at 10 s with a drawn wait
  // of 55 s would pass at 65 s, inside the window: one interval more (125 s).
  BOOST_TEST(first_wait_after_splay(120, 10, 60, 55) == 115);
  // started at 2 s, wait 54: 56 s, 64 s short: two intervals more (176 s, same phase)
  BOOST_TEST(first_wait_after_splay(120, 2, 60, 54) == 174);
  // already after the window: as drawn
  BOOST_TEST(first_wait_after_splay(120, 70, 60, 55) == 55);
  BOOST_TEST(first_wait_after_splay(120, 65, 60, 55) == 55);  // exactly at its end
  // a window of at most one interval (a restart's auto) changes nothing
  BOOST_TEST(first_wait_after_splay(60, 1, 60, 54) == 54);
  BOOST_TEST(first_wait_after_splay(0, 0, 60, 54) == 54);
  BOOST_TEST(first_wait_after_splay(120, 0, 0, 5) == 5);  // no interval: nothing to keep
}

BOOST_AUTO_TEST_CASE(seconds_given_are_used_as_given_and_zero_turns_it_off) {
  BOOST_TEST(resolve_splay(30.0, 60, false, false) == 30);
  BOOST_TEST(resolve_splay(30.0, 60, true, true) == 30);  // asked for explicitly: benchmarks use it
  BOOST_TEST(resolve_splay(0.0, 60, true, false) == 0);
  BOOST_TEST(resolve_splay(-5.0, 60, true, false) == 0);
}

BOOST_AUTO_TEST_CASE(no_window_is_no_delay_and_draws_nothing) {
  std::mt19937_64 rng(3);
  const std::mt19937_64 before = rng;
  BOOST_TEST(splay_delay(0, rng) == 0);
  BOOST_TEST(splay_delay(-1, rng) == 0);
  BOOST_TEST((rng == before));
}

BOOST_AUTO_TEST_CASE(delays_cover_the_window_uniformly) {
  // A fleet's first passes spread evenly over the window: every tenth of it
  // gets about a tenth of the nodes (the herd's peak is the fullest tenth).
  std::mt19937_64 rng(11);
  std::vector<int> tenths(10, 0);
  for (int i = 0; i < 20000; ++i) {
    const double d = splay_delay(60, rng);
    BOOST_TEST_REQUIRE(d >= 0);
    BOOST_TEST_REQUIRE(d <= 60);
    ++tenths[std::min<size_t>(9, static_cast<size_t>(d / 6))];
  }
  for (int t : tenths) BOOST_TEST(std::abs(t - 2000) < 200, "tenth with " << t << " of 20000");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// run_daemon with an injected clock and wait: each wait is recorded and the
// clock moves by it (or by `partial` of it when a signal is scripted for it).
struct FakeDaemon {
  std::deque<PassOutcome::Kind> passes;  // what each pass returns; ok once they run out
  std::deque<int> signals;               // what each wait returns (0 = timed out); 0 once they run out
  std::vector<double> waits;             // seconds each wait was asked for
  std::vector<double> pass_times;        // the clock at each pass
  std::vector<double> keep_alives;       // the clock at each WATCHDOG=1 sent while waiting
  double keep_alive_every = 0;           // half the watchdog timeout; 0 = no watchdog
  int reloads = 0;
  double clock = 0;
  std::ostringstream logged;

  DaemonHooks hooks(uint64_t seed, double splay, uint64_t max_passes) {
    DaemonHooks h;
    h.seed = seed;
    h.splay = splay;
    h.max_passes = max_passes;
    if (keep_alive_every > 0) {
      h.keep_alive = [this] { keep_alives.push_back(clock); };
      h.keep_alive_every = keep_alive_every;
    }
    h.pass = [this] {
      pass_times.push_back(clock);
      PassOutcome o;
      if (!passes.empty()) {
        o.kind = passes.front();
        passes.pop_front();
      }
      o.message = "fake";
      return o;
    };
    h.reload = [this](std::string&) {
      ++reloads;
      return true;
    };
    h.interval = [] { return 60.0; };
    h.jitter = [] { return 0.1; };
    h.retry_min = [] { return 1.0; };
    h.retry_max = [] { return 60.0; };
    h.now = [this] { return clock; };
    h.wait = [this](double s) {
      waits.push_back(s);
      int sig = 0;
      if (!signals.empty()) {
        sig = signals.front();
        signals.pop_front();
      }
      clock += sig ? s / 2 : s;  // a signal arrives half-way through the wait
      return sig;
    };
    return h;
  }
  PassOutcome run(uint64_t seed, double splay, uint64_t max_passes) {
    gpu_agent::Log log(logged, gpu_agent::Log::Level::debug);
    return gpu_agent::run_daemon(hooks(seed, splay, max_passes), log);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_loop)

BOOST_AUTO_TEST_CASE(splay_comes_before_the_first_pass_then_jittered_intervals) {
  FakeDaemon d;
  const PassOutcome end = d.run(7, 60, 4);
  BOOST_TEST((end.kind == PassOutcome::Kind::ok));
  BOOST_TEST_REQUIRE(d.pass_times.size() == 4u);
  BOOST_TEST_REQUIRE(d.waits.size() == 4u);  // splay + 3 intervals (none after the last pass)
  BOOST_TEST(d.waits[0] > 0);
  BOOST_TEST(d.waits[0] <= 60);
  BOOST_TEST(d.pass_times[0] == d.waits[0]);  // the first pass runs after the splay, not before
  for (size_t i = 1; i < 4; ++i) {
    BOOST_TEST(d.waits[i] >= 54);
    BOOST_TEST(d.waits[i] <= 66);
    BOOST_TEST(d.pass_times[i] - d.pass_times[i - 1] == d.waits[i]);
  }
  BOOST_TEST(d.logged.str().find("start-up splay") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_first_deployments_window_has_no_steady_pass_inside_it_and_keeps_each_phase) {
  // 200 nodes, window 120 s (two intervals of 60): every first pass inside
  // it, every second pass after it, at the node's own phase.
  std::vector<double> firsts, seconds;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    FakeDaemon d;
    d.run(seed, 120, 3);
    BOOST_TEST_REQUIRE(d.pass_times.size() == 3u);
    firsts.push_back(d.pass_times[0]);
    seconds.push_back(d.pass_times[1]);
    BOOST_TEST(d.pass_times[0] <= 120);
    BOOST_TEST(d.pass_times[1] >= 120, "seed " << seed << ": second pass at " << d.pass_times[1]);
    BOOST_TEST(d.pass_times[1] - d.pass_times[0] <= 60 * 2 + 66);
    BOOST_TEST(d.pass_times[2] - d.pass_times[1] >= 54);  // then jittered intervals
    BOOST_TEST(d.pass_times[2] - d.pass_times[1] <= 66);
  }
  // The second passes spread over an interval after the window: no 6 s slice of
  // [120, 186) gets more than twice its share (200 x 6 / 66 = 18).
  std::vector<int> slices(11, 0);
  for (double t : seconds) ++slices[std::min<size_t>(10, static_cast<size_t>((t - 120) / 6))];
  for (int n : slices) BOOST_TEST(n <= 36, "a 6 s slice with " << n << " of 200 second passes");
}

BOOST_AUTO_TEST_CASE(no_splay_means_the_first_pass_runs_at_once) {
  FakeDaemon d;
  d.run(7, 0, 2);
  BOOST_TEST_REQUIRE(d.pass_times.size() == 2u);
  BOOST_TEST(d.pass_times[0] == 0);
  BOOST_TEST(d.waits.size() == 1u);
  BOOST_TEST(d.logged.str().find("splay") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_schedule_and_seeds_differ) {
  auto schedule = [](uint64_t seed) {
    FakeDaemon d;
    d.passes = {PassOutcome::Kind::retry, PassOutcome::Kind::retry, PassOutcome::Kind::ok, PassOutcome::Kind::ok};
    d.run(seed, 120, 5);
    return d.waits;
  };
  BOOST_TEST(schedule(1) == schedule(1));
  BOOST_TEST(schedule(1) != schedule(2));
  // A fleet of 200 seeds: splays differ from node to node.
  std::set<double> firsts;
  for (uint64_t seed = 1; seed <= 200; ++seed) firsts.insert(schedule(seed)[0]);
  BOOST_TEST(firsts.size() == 200u);
}

BOOST_AUTO_TEST_CASE(retries_back_off_with_jitter_and_an_ok_pass_resets_them) {
  FakeDaemon d;
  using K = PassOutcome::Kind;
  d.passes = {K::retry, K::retry, K::retry, K::retry, K::ok, K::retry};
  d.run(42, 0, 7);
  BOOST_TEST_REQUIRE(d.waits.size() == 6u);
  const double tops[] = {2, 4, 8, 16};  // attempt n: [1, 2^(n+1)]
  for (size_t n = 0; n < 4; ++n) {
    BOOST_TEST(d.waits[n] >= 1);
    BOOST_TEST(d.waits[n] <= tops[n]);
  }
  BOOST_TEST(d.waits[4] >= 54);  // ok: a jittered interval
  BOOST_TEST(d.waits[4] <= 66);
  BOOST_TEST(d.waits[5] <= 2);  // the next outage starts from the first window again
  BOOST_TEST(d.logged.str().find("placement reachable again") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(recovery_after_an_outage_is_spread_over_the_retry_window) {
  // 500 nodes lose Placement for 2 minutes: when it is back, the passes that
  // find it are spread over up to retry_max, not bunched at the end.
  std::vector<double> recovered;
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    FakeDaemon d;
    double down_until = 120;
    DaemonHooks h = d.hooks(seed, 0, 40);
    h.pass = [&] {
      d.pass_times.push_back(d.clock);
      PassOutcome o;
      o.kind = d.clock < down_until ? PassOutcome::Kind::retry : PassOutcome::Kind::ok;
      if (o.kind == PassOutcome::Kind::ok && down_until > 0) {
        recovered.push_back(d.clock - 120);
        down_until = 0;  // stays up
      }
      return o;
    };
    gpu_agent::Log log(d.logged, gpu_agent::Log::Level::error);
    gpu_agent::run_daemon(h, log);
  }
  BOOST_TEST_REQUIRE(recovered.size() == 500u);
  const double latest = *std::max_element(recovered.begin(), recovered.end());
  BOOST_TEST(latest <= 60);  // never longer than retry_max after Placement is back
  // Spread: a node finds Placement back at the end of a wait drawn from
  // [1, 60], so the first 6 s get about 6 x 57/59 / 30.5 = 19% of the nodes
  // (95 of 500), later slices fewer; none gets 25% (what bunching would show).
  std::vector<int> tenths(10, 0);
  for (double r : recovered) ++tenths[std::min<size_t>(9, static_cast<size_t>(r / 6))];
  for (int t : tenths) BOOST_TEST(t < 125, "a 6 s slice with " << t << " of 500 recoveries");
  BOOST_TEST(tenths[9] > 0);
}

BOOST_AUTO_TEST_CASE(a_stop_signal_during_the_splay_exits_before_any_pass) {
  FakeDaemon d;
  d.signals = {SIGTERM};
  const PassOutcome end = d.run(9, 60, 3);
  BOOST_TEST((end.kind == PassOutcome::Kind::stopped));
  BOOST_TEST(d.pass_times.empty());
}

BOOST_AUTO_TEST_CASE(sighup_during_the_splay_reloads_and_keeps_waiting_out_the_rest) {
  FakeDaemon d;
  d.signals = {SIGHUP};
  d.run(9, 60, 1);
  BOOST_TEST(d.reloads == 1);
  BOOST_TEST_REQUIRE(d.waits.size() == 2u);
  BOOST_TEST(d.waits[1] == d.waits[0] / 2);  // the remaining half, measured on the injected clock
  BOOST_TEST_REQUIRE(d.pass_times.size() == 1u);
  BOOST_TEST(d.pass_times[0] == d.waits[0]);
}

BOOST_AUTO_TEST_CASE(sighup_between_passes_reconciles_at_once) {
  FakeDaemon d;
  d.signals = {SIGHUP};
  d.run(9, 0, 2);
  BOOST_TEST(d.reloads == 1);
  BOOST_TEST_REQUIRE(d.pass_times.size() == 2u);
  BOOST_TEST(d.pass_times[1] == d.waits[0] / 2);  // not a full interval later
}

// WatchdogSec=30 (keep-alives every 15 s): the longest time systemd goes
// without a WATCHDOG=1 (the keep-alives, and the one after_pass sends at the
// end of every pass, here at the pass's clock) before `until`.
double longest_silence(const FakeDaemon& d, double until) {
  std::vector<double> said = d.keep_alives;
  said.insert(said.end(), d.pass_times.begin(), d.pass_times.end());
  said.push_back(until);
  std::sort(said.begin(), said.end());
  double longest = 0, last = 0;  // systemd starts counting at the start
  for (double t : said) {
    longest = std::max(longest, t - last);
    last = t;
  }
  return longest;
}

BOOST_AUTO_TEST_CASE(a_splay_longer_than_the_watchdog_keeps_it_fed) {
  FakeDaemon d;
  d.keep_alive_every = 15;
  d.run(7, 600, 1);  // a splay of up to 10 min against WatchdogSec=30
  BOOST_TEST_REQUIRE(d.pass_times.size() == 1u);
  const double splay = d.pass_times[0];
  BOOST_TEST(splay > 60);  // the draw for seed 7 is long enough to matter
  // A keep-alive every 15 s on the clock from the start, none late.
  BOOST_TEST_REQUIRE(d.keep_alives.size() == static_cast<size_t>(std::floor(splay / 15)));
  for (size_t i = 0; i < d.keep_alives.size(); ++i) BOOST_TEST(d.keep_alives[i] == 15.0 * static_cast<double>(i + 1));
  BOOST_TEST(longest_silence(d, splay) <= 15 + 1e-9);
  // The waits add up to the splay drawn: slicing does not stretch it.
  double waited = 0;
  for (double w : d.waits) waited += w;
  BOOST_TEST(waited == splay, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(intervals_and_backoff_longer_than_the_watchdog_keep_it_fed) {
  FakeDaemon d;
  d.keep_alive_every = 15;
  using K = PassOutcome::Kind;
  d.passes = {K::retry, K::retry, K::retry, K::retry, K::retry, K::retry, K::ok};
  d.run(3, 0, 9);  // backoff up to retry_max 60 s, then intervals of 54-66 s
  BOOST_TEST_REQUIRE(d.pass_times.size() == 9u);
  BOOST_TEST(d.pass_times.back() > 150);  // several keep-alive periods
  BOOST_TEST(longest_silence(d, d.pass_times.back()) <= 15 + 1e-9);
  // Each keep-alive comes 15 s after the last WATCHDOG=1, not sooner: a
  // pass's own counts, so short waits send none.
  BOOST_TEST(d.keep_alives.size() < static_cast<size_t>(d.pass_times.back() / 15));
  for (double k : d.keep_alives) {
    double before = 0;
    for (double t : d.pass_times)
      if (t < k) before = std::max(before, t);
    for (double t : d.keep_alives)
      if (t < k) before = std::max(before, t);
    BOOST_TEST(k - before == 15.0, boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(sighup_during_a_fed_splay_still_waits_out_the_rest) {
  FakeDaemon d;
  d.keep_alive_every = 15;
  d.signals = {0, 0, SIGHUP};  // during the third slice
  d.run(7, 600, 1);
  BOOST_TEST(d.reloads == 1);
  FakeDaemon plain;
  plain.run(7, 600, 1);
  BOOST_TEST(d.pass_times[0] == plain.pass_times[0], boost::test_tools::tolerance(1e-9));
  BOOST_TEST(longest_silence(d, d.pass_times[0]) <= 15 + 1e-9);
}

BOOST_AUTO_TEST_CASE(without_a_watchdog_a_wait_is_one_wait) {
  FakeDaemon d;
  d.run(7, 600, 2);
  BOOST_TEST(d.keep_alives.empty());
  BOOST_TEST(d.waits.size() == 2u);  // the splay and one interval, uncut
}

BOOST_AUTO_TEST_SUITE_END()
