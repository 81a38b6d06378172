// The daemon's waits: capped exponential backoff with full jitter between
// retries, and the interval with +-jitter between passes. Seeded generators,
// many draws: bounds, growth, the cap, and that the values really vary.
#define BOOST_TEST_MODULE daemon
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "daemon.h"

using gpu_agent::Backoff;
using gpu_agent::jittered;

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
          const double bound = std::min(max, min * std::pow(2.0, n));
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

BOOST_AUTO_TEST_CASE(first_retry_waits_exactly_min) {
  // [min, min * 2^0]: no room for jitter on the first retry.
  for (uint64_t seed = 1; seed <= 50; ++seed) BOOST_TEST(Backoff(1.5, 60, seed).next() == 1.5);
}

BOOST_AUTO_TEST_CASE(the_range_doubles_with_each_attempt) {
  // min 1, max 1000: draw n is uniform in [1, 2^n] until 2^n passes 1000.
  double last_mean = 1;
  for (int n = 1; n <= 9; ++n) {
    BOOST_TEST_CONTEXT("draw " << n) {
      const auto v = nth_draws(1, 1000, n);
      const double top = std::pow(2.0, n);
      const double hi = *std::max_element(v.begin(), v.end());
      BOOST_TEST(hi <= top);
      BOOST_TEST(hi > 1 + 0.95 * (top - 1));              // the top of the range is reached...
      if (n >= 2) BOOST_TEST(hi > std::pow(2.0, n - 1));  // ...beyond the previous attempt's range
      const double m = mean(v);
      BOOST_TEST(std::abs(m - (1 + top) / 2) < 0.1 * top);  // uniform: mean halfway
      BOOST_TEST(m > last_mean);
      last_mean = m;
    }
  }
}

BOOST_AUTO_TEST_CASE(full_jitter_uses_the_whole_range) {
  // Not "half fixed, half random": draws land near min as well as near the top.
  const auto v = nth_draws(1, 1000, 6);  // [1, 64]
  const auto low = std::count_if(v.begin(), v.end(), [](double w) { return w < 8; });
  const auto lower_half = std::count_if(v.begin(), v.end(), [](double w) { return w < 32.5; });
  BOOST_TEST(low > 0);
  BOOST_TEST(std::abs(static_cast<double>(lower_half) / kSeeds - 0.5) < 0.1);
  BOOST_TEST(std::set<double>(v.begin(), v.end()).size() > static_cast<size_t>(kSeeds * 9 / 10));
}

BOOST_AUTO_TEST_CASE(the_cap_is_reached_and_held) {
  // min 1, max 60: from draw 6 on (2^6 = 64) the range is [1, 60].
  for (int n : {6, 7, 10, 30, 31, 100}) {
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
  BOOST_TEST(b.next() == 2);
  const double second = b.next();
  BOOST_TEST(second >= 2);
  BOOST_TEST(second <= 4);
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
