// Which read a steady-state pass sends (plan_steady_read, pure): one request a
// pass, `used` never older than usage_refresh, and a tree GET at least every
// other pass. Driven by a simulated clock with seeded, jittered pass gaps; and
// nova's compute_id file as nova writes and reads it.
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compute_id.h"
#include "usage_schedule.h"

using gpu_agent::plan_steady_read;
using gpu_agent::PoolUsageAge;
using gpu_agent::TreeDue;

namespace {

struct Run {
  size_t passes = 0, stand_ins = 0, requests = 0, max_requests = 0;
  bool two_stand_ins_in_a_row = false;
  double max_age = 0;  // of any pool's reading, at any pass, before it is read
};

// k pools read at t = 0 by a full read; then `passes` steady passes, each
// interval x (1 +- jitter) after the last, from a seeded generator. From
// pass `outage_from` to `outage_to` (exclusive) every pass fails (retry).
Run simulate(size_t k, double interval, double jitter, double usage_refresh, size_t passes, uint64_t seed,
             size_t outage_from = 0, size_t outage_to = 0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> gap(interval * (1 - jitter), interval * (1 + jitter));
  std::map<std::string, double> read_at;
  for (size_t i = 0; i < k; ++i) read_at["pool-" + std::to_string(i)] = 0;
  Run run;
  TreeDue tree_due = TreeDue::no;
  bool last_stood_in = false;
  double now = 0;
  for (size_t p = 0; p < passes; ++p) {
    now += gap(rng);
    if (p >= outage_from && p < outage_to) {
      tree_due = TreeDue::first;
      last_stood_in = false;
      continue;
    }
    const bool after_outage = outage_to > 0 && p >= outage_to;
    if (!after_outage || p >= outage_to + 2 * k)  // the catch-up after an outage may not be fresh yet
      for (const auto& [u, t] : read_at) run.max_age = std::max(run.max_age, now - t);
    std::vector<PoolUsageAge> ages;
    for (const auto& [u, t] : read_at) ages.push_back({u, t});
    const auto r = plan_steady_read(now, usage_refresh, interval * (1 + jitter), tree_due, ages);
    size_t requests = 1 + r.with_tree.size();
    if (r.stand_in) read_at[*r.stand_in] = now;
    for (const auto& u : r.with_tree) read_at[u] = now;
    if (r.stand_in && last_stood_in) run.two_stand_ins_in_a_row = true;
    last_stood_in = r.stand_in.has_value();
    tree_due = r.stand_in ? TreeDue::after_stand_in : TreeDue::no;
    ++run.passes;
    run.stand_ins += r.stand_in ? 1u : 0u;
    run.requests += requests;
    run.max_requests = std::max(run.max_requests, requests);
  }
  return run;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(usage_schedule)

BOOST_AUTO_TEST_CASE(defaults_one_or_two_pools_one_request_every_pass_and_used_never_older_than_usage_refresh) {
  for (size_t k : {1u, 2u}) {
    for (uint64_t seed = 1; seed <= 50; ++seed) {
      BOOST_TEST_CONTEXT("pools " << k << " seed " << seed) {
        const Run r = simulate(k, 60, 0.1, 300, 500, seed);
        BOOST_TEST(r.max_requests == 1u);
        BOOST_TEST(r.requests == r.passes);
        BOOST_TEST(r.max_age <= 300.0);
        BOOST_TEST(!r.two_stand_ins_in_a_row);  // a change elsewhere in the tree is seen within two passes
      }
    }
  }
  // One pool: about one pass in four stands in (read before 300 s, passes up to 66 s apart).
  const Run one = simulate(1, 60, 0.1, 300, 1000, 7);
  BOOST_TEST(one.stand_ins >= 1000u / 5);
  BOOST_TEST(one.stand_ins <= 1000u / 3);
}

BOOST_AUTO_TEST_CASE(the_fleet_benchmarks_scaled_defaults_hold_too) {
  // scripts/bench-fleet.sh: --interval 20, usage_refresh 100.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Run r = simulate(1, 20, 0.1, 100, 300, seed);
    BOOST_TEST(r.max_requests == 1u);
    BOOST_TEST(r.max_age <= 100.0);
  }
}

BOOST_AUTO_TEST_CASE(more_pools_than_stand_in_passes_keep_used_fresh_with_a_second_request_now_and_then) {
  // Three pools at the defaults: a stand-in every other pass serves one pool
  // per ~120 s, so each would wait ~360 s; the pool about to turn 300 s old is
  // read beside the tree GET instead.
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const Run r = simulate(3, 60, 0.1, 300, 500, seed);
    BOOST_TEST(r.max_age <= 300.0, "seed " << seed);
    BOOST_TEST(r.max_requests <= 2u);
    BOOST_TEST(!r.two_stand_ins_in_a_row);
    BOOST_TEST(static_cast<double>(r.requests) / static_cast<double>(r.passes) < 1.25);
  }
}

BOOST_AUTO_TEST_CASE(after_an_outage_stale_readings_are_caught_up_one_a_pass_not_all_at_once) {
  // 20 failed passes (~20 minutes): every reading is older than usage_refresh.
  for (size_t k : {1u, 2u, 3u}) {
    const Run r = simulate(k, 60, 0.1, 300, 200, 3, 10, 30);
    BOOST_TEST(r.max_requests <= (k < 3 ? 1u : 2u), "pools " << k);
    BOOST_TEST(r.max_age <= 300.0, "pools " << k);  // from 2k passes after the outage on
  }
  // The first pass after it reads the tree only, however stale the pools are.
  const auto first = plan_steady_read(3600, 300, 66, TreeDue::first, {{"a", 0}, {"b", 10}});
  BOOST_TEST(!first.stand_in);
  BOOST_TEST(first.with_tree.empty());
  // The next stands in for the stalest.
  const auto second = plan_steady_read(3660, 300, 66, TreeDue::no, {{"a", 0}, {"b", 10}});
  BOOST_TEST(second.stand_in.value_or("") == "a");
  BOOST_TEST(second.with_tree.empty());
}

BOOST_AUTO_TEST_CASE(a_pass_after_a_stand_in_reads_the_tree_and_usage_refresh_0_never_reads_usages) {
  for (double now : {0.0, 250.0, 299.0, 301.0, 1e6}) {
    BOOST_TEST(!plan_steady_read(now, 300, 66, TreeDue::after_stand_in, {{"a", 0}}).stand_in);
    BOOST_TEST(!plan_steady_read(now, 300, 66, TreeDue::first, {{"a", 0}}).stand_in);
    const auto off = plan_steady_read(now, 0, 66, TreeDue::no, {{"a", 0}});
    BOOST_TEST(!off.stand_in);
    BOOST_TEST(off.with_tree.empty());
  }
  BOOST_TEST(!plan_steady_read(1000, 300, 66, TreeDue::no, {}).stand_in);  // no pools
  // Fresh enough to wait: 233 s old, the next pass at most 66 s away.
  BOOST_TEST(!plan_steady_read(233, 300, 66, TreeDue::no, {{"a", 0}}).stand_in);
  BOOST_TEST(plan_steady_read(235, 300, 66, TreeDue::no, {{"a", 0}}).stand_in.value_or("") == "a");
  // About to age on the pass after a stand-in (more pools than stand-ins): read beside the tree GET.
  const auto both = plan_steady_read(240, 300, 66, TreeDue::after_stand_in, {{"a", 0}});
  BOOST_TEST((both.with_tree == std::vector<std::string>{"a"}));
  // ... but not on a process's first pass, or the one after an outage: one request there.
  BOOST_TEST(plan_steady_read(240, 300, 66, TreeDue::first, {{"a", 0}}).with_tree.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(compute_id)

using gpu_agent::parse_compute_id;
using gpu_agent::read_compute_id;
using Kind = gpu_agent::ComputeId::Kind;

BOOST_AUTO_TEST_CASE(parses_what_nova_writes_and_reads) {
  const std::string u = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  BOOST_TEST(parse_compute_id(u).value_or("") == u);  // nova writes the bare UUID, no newline
  BOOST_TEST(parse_compute_id(u + "\n").value_or("") == u);
  BOOST_TEST(parse_compute_id("  3F2504E0-4F89-41D3-9A0C-0305E82C3301 \n").value_or("") == u);
  BOOST_TEST(parse_compute_id("3f2504e04f8941d39a0c0305e82c3301").value_or("") == u);  // Python's uuid.UUID accepts it
  BOOST_TEST(parse_compute_id("{" + u + "}").value_or("") == u);
  BOOST_TEST(!parse_compute_id(""));
  BOOST_TEST(!parse_compute_id("compute-0.example.org"));
  BOOST_TEST(!parse_compute_id(u.substr(0, 35)));
  BOOST_TEST(!parse_compute_id("3f2504e0-4f89-41d3-9a0c-0305e82c330g"));
  BOOST_TEST(!parse_compute_id(u + u));  // nova reads 40 characters: not a UUID
}

BOOST_AUTO_TEST_CASE(the_file_found_absent_or_unusable) {
  const auto dir = std::filesystem::temp_directory_path() / ("compute-id-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "compute_id").string();
  BOOST_TEST((read_compute_id("").kind == Kind::absent));
  const auto absent = read_compute_id(file);
  BOOST_TEST((absent.kind == Kind::absent));
  BOOST_TEST(absent.why.find("nova before 2023.1") != std::string::npos, absent.why);
  std::ofstream(file) << "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  const auto found = read_compute_id(file);
  BOOST_TEST((found.kind == Kind::found));
  BOOST_TEST(found.uuid == "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  std::ofstream(file) << "not a uuid\n";
  const auto garbage = read_compute_id(file);
  BOOST_TEST((garbage.kind == Kind::unusable));
  BOOST_TEST(garbage.why.find(file) != std::string::npos, garbage.why);
  std::ofstream(file, std::ios::trunc).close();
  BOOST_TEST((read_compute_id(file).kind == Kind::unusable));  // empty
  const auto is_dir = read_compute_id(dir.string());
  BOOST_TEST((is_dir.kind == Kind::unusable));
  BOOST_TEST(is_dir.why.find("directory") != std::string::npos, is_dir.why);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
