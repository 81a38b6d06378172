// The steady state's one request a pass against a REAL Placement, with the
// Reporter's clock driven by the test (no sleeping): `used` refreshed within
// usage_refresh after an allocation is deleted (which moves no generation),
// a change elsewhere in the tree seen within two passes, a pool deleted under
// a usages GET; and nova's compute_id file: present, absent, garbage, naming
// no provider, naming another compute node.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "log.h"
#include "report.h"
#include "report_env.h"
#include "uuid5.h"

using namespace gpu_agent;

namespace {

const std::string kRC = "CUSTOM_PGPU_10DE_20B2";
const std::string kHostTrait = "CUSTOM_STEADY_HOST_TRAIT";

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

struct Agent {
  std::ostringstream log_text;
  Log log{log_text};
  Reporter reporter;
  double clock = 1.9e9;  // unix seconds, moved by the test
  PassOutcome last;
  Agent(const AgentConfig& cfg, const std::string& host)
      : reporter(cfg,
                 ReportSources{.fixture = env::fixture("a100-8x-passthrough"), .libvirt_uri = "none", .hostname = host},
                 log) {
    reporter.set_clock([this] { return clock; });
  }
  PassOutcome pass() { return last = reporter.pass(false, nullptr); }
  const PoolObservation& pool() const {
    BOOST_REQUIRE(last.observed && !last.observed->pools.empty());
    return last.observed->pools.front();
  }
};

void expect_ok(const Agent& a) {
  BOOST_TEST_REQUIRE((a.last.kind == PassOutcome::Kind::ok), a.last.message << "\nlog:\n" << a.log_text.str());
}

// The root's traits without `trait`, as another writer would leave them.
void remove_root_trait(const std::string& root, const std::string& trait) {
  auto c = env::client();
  auto t = c->get_traits(root);
  BOOST_REQUIRE(t);
  auto traits = t->traits;
  traits.erase(trait);
  BOOST_REQUIRE(c->put_traits(root, t->generation, traits));
}

std::string write_compute_id(const std::string& name, const std::string& text) {
  const std::string path = env::work_dir() + "/" + env::unique(name) + ".compute_id";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

BOOST_AUTO_TEST_CASE(one_request_a_pass_used_fresh_within_usage_refresh_and_the_tree_checked_every_other_pass) {
  const std::string host = env::unique("steady");
  const std::string root = env::make_compute_node(host);
  const std::string pool = uuid5(placement::pool_provider_name(host, kRC));
  // The defaults: interval 60 s, jitter 0.1, usage_refresh 300 s; the clock moves 60 s a pass.
  Agent a(env::config(env::placement_url(),
                      "interval = 60\njitter = 0.1\nusage_refresh = 300\nhost_traits = " + kHostTrait),
          host);
  const double t0 = a.clock;
  a.pass();  // cold: creates the pool
  expect_ok(a);
  BOOST_TEST(a.pool().used.value_or(-1) == 0);

  // A server is booted: the allocation moves the pool's generation; the next pass reads in full.
  const std::string consumer = env::allocate(pool, kRC, 3);
  a.clock = t0 + 60;
  a.pass();
  expect_ok(a);
  BOOST_TEST(a.pool().used.value_or(-1) == 3);
  BOOST_TEST(a.pool().used_read_at == t0 + 60);

  // The server is deleted: no generation moves, so a tree GET cannot see it.
  BOOST_REQUIRE(env::http_status("DELETE", "/allocations/" + consumer) == 204);
  for (double t : {120.0, 180.0, 240.0}) {
    a.clock = t0 + t;
    a.pass();
    expect_ok(a);
    BOOST_TEST(a.last.stats.requests == 1u, "at +" << t);
    BOOST_TEST(a.last.stats.writes == 0u);
    BOOST_TEST(a.pool().used.value_or(-1) == 3, "at +" << t << ": only the tree was read");
  }
  // Somebody changes the tree elsewhere (the root's traits) just before the
  // pass where the pool's usages are due (read at +60, 300 s old at +360,
  // the next pass possibly 66 s later): that pass stands in for the tree GET.
  remove_root_trait(root, kHostTrait);
  a.clock = t0 + 300;
  a.pass();
  expect_ok(a);
  BOOST_TEST(a.last.stats.requests == 1u);
  BOOST_TEST(a.last.stats.writes == 0u);
  BOOST_TEST(a.pool().used.value_or(-1) == 0, "the deletion shows 240 s after the last read, within usage_refresh");
  BOOST_TEST(a.pool().used_read_at == t0 + 300);
  BOOST_TEST(env::read_tree(root).traits(root).count(kHostTrait) == 0u, "the stand-in pass did not read the root");
  // The next pass reads the tree: the root's generation moved, the trait comes back.
  a.clock = t0 + 360;
  a.pass();
  expect_ok(a);
  BOOST_TEST(a.last.stats.writes == 1u, a.log_text.str());
  BOOST_TEST(env::read_tree(root).traits(root).count(kHostTrait) == 1u);

  // The pool is deleted by somebody just before its usages are due again
  // (read in full at +360): the usages GET answers 404, the same pass reads
  // the tree and creates the pool again.
  for (double t : {420.0, 480.0, 540.0}) {
    a.clock = t0 + t;
    a.pass();
    expect_ok(a);
    BOOST_TEST(a.last.stats.requests == 1u, "at +" << t);
  }
  BOOST_REQUIRE(env::http_status("DELETE", "/resource_providers/" + pool) == 204);
  a.clock = t0 + 600;
  a.pass();
  expect_ok(a);
  BOOST_TEST(a.last.stats.by_status.count({"GET", 404}) == 1u, a.log_text.str());
  BOOST_TEST(a.last.stats.writes >= 3u);  // the pool, its inventory, its traits
  BOOST_TEST(env::read_tree(root).inventory(pool)[kRC].total == 8);

  // A restarted agent resumes with the readings' times from state.json: its
  // first pass is the tree GET, whatever is due, and the due usages come next.
  Agent again(a.reporter.config(), host);
  again.clock = t0 + 1200;
  again.pass();
  expect_ok(again);
  BOOST_TEST(again.last.stats.requests == 1u);
  BOOST_TEST(again.pool().used_read_at == t0 + 600);
  again.clock = t0 + 1260;
  again.pass();
  expect_ok(again);
  BOOST_TEST(again.last.stats.requests == 1u);
  BOOST_TEST(again.pool().used_read_at == t0 + 1260);
}

BOOST_AUTO_TEST_CASE(nova_compute_id_names_the_root_or_is_checked_and_the_name_decides) {
  // A node whose pass creates the class and the traits this Placement may not have yet.
  const std::string first = env::unique("cid-first");
  env::make_compute_node(first);
  Agent warm(env::config(), first);
  warm.pass();
  expect_ok(warm);

  // Present and right: the tree read by its UUID, no lookup by name: 4 requests.
  const std::string host = env::unique("cid-ok");
  const std::string root = env::make_compute_node(host);
  Agent a(env::config(env::placement_url(), "nova_compute_id = " + write_compute_id("ok", root + "\n")), host);
  a.pass();
  expect_ok(a);
  BOOST_TEST(a.last.stats.requests == 4u, a.log_text.str());
  BOOST_TEST(a.last.stats.writes == 3u);
  BOOST_TEST(
      contains(a.log_text.str(), "INFO compute node " + host + ": reading its tree by nova's compute_id " + root),
      a.log_text.str());
  BOOST_TEST(!contains(a.log_text.str(), "up by name"), a.log_text.str());
  BOOST_TEST(!contains(a.log_text.str(), "WARNING"), a.log_text.str());
  BOOST_TEST(env::read_tree(root).children().size() == 1u);

  // Absent (nova before 2023.1): by name, 5 requests, one INFO line saying why.
  const std::string zed = env::unique("cid-zed");
  const std::string zed_root = env::make_compute_node(zed);
  Agent b(env::config(env::placement_url(), "nova_compute_id = " + env::work_dir() + "/no/compute_id"), zed);
  b.pass();
  expect_ok(b);
  BOOST_TEST(b.last.stats.requests == 5u, b.log_text.str());
  BOOST_TEST(contains(b.log_text.str(), "INFO no " + env::work_dir() + "/no/compute_id (nova before 2023.1"),
             b.log_text.str());
  BOOST_TEST(!contains(b.log_text.str(), "WARNING"), b.log_text.str());
  BOOST_TEST(env::read_tree(zed_root).children().size() == 1u);

  // Garbage: a WARNING, by name.
  const std::string junk = env::unique("cid-junk");
  const std::string junk_root = env::make_compute_node(junk);
  Agent c(env::config(env::placement_url(), "nova_compute_id = " + write_compute_id("junk", "compute-7\n")), junk);
  c.pass();
  expect_ok(c);
  BOOST_TEST(contains(c.log_text.str(), "holds no UUID; looking compute node " + junk + " up by name"),
             c.log_text.str());
  BOOST_TEST(env::read_tree(junk_root).children().size() == 1u);

  // Naming no provider (a stale file; the node registered again): the name decides.
  const std::string stale = env::unique("cid-stale");
  const std::string stale_root = env::make_compute_node(stale);
  const std::string nobody = env::new_uuid();
  Agent d(env::config(env::placement_url(), "nova_compute_id = " + write_compute_id("stale", nobody)), stale);
  d.pass();
  expect_ok(d);
  BOOST_TEST(contains(d.log_text.str(), nobody + ") names no provider in Placement; compute node " + stale + " is " +
                                            stale_root + " by name"),
             d.log_text.str());
  BOOST_TEST(env::read_tree(stale_root).children().size() == 1u);

  // Naming another compute node (a file copied with a host image): not
  // trusted; the pool goes under this node's root, the other tree untouched.
  const std::string copy = env::unique("cid-copy");
  const std::string copy_root = env::make_compute_node(copy);
  const auto before = env::read_tree(root).providers.size();
  Agent e(env::config(env::placement_url(), "nova_compute_id = " + write_compute_id("copy", root)), copy);
  e.pass();
  expect_ok(e);
  BOOST_TEST(contains(e.log_text.str(), "names provider '" + host + "', not this compute node; looking compute node " +
                                            copy + " up by name"),
             e.log_text.str());
  BOOST_TEST(env::read_tree(copy_root).children().size() == 1u);
  BOOST_TEST(env::read_tree(root).providers.size() == before);
  e.pass();
  expect_ok(e);
  BOOST_TEST(e.last.stats.requests == 1u);  // then the steady state, on the right tree
  BOOST_TEST((e.last.kind == PassOutcome::Kind::ok));

  // Naming a pool (a provider with a parent): not a compute node.
  const std::string child = env::unique("cid-child");
  const std::string child_root = env::make_compute_node(child);
  const std::string a_pool = uuid5(placement::pool_provider_name(host, kRC));
  Agent f(env::config(env::placement_url(), "nova_compute_id = " + write_compute_id("child", a_pool)), child);
  f.pass();
  expect_ok(f);
  BOOST_TEST(contains(f.log_text.str(), "which is not a compute node (it has a parent)"), f.log_text.str());
  BOOST_TEST(env::read_tree(child_root).children().size() == 1u);
}
