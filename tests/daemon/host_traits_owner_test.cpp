// [agent] host_traits_owner = nova against a real Placement: the agent hands
// the host traits over to nova's provider config without ever removing them,
// and on a fresh host does not set them at all; its pools are unchanged.
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "log.h"
#include "report.h"
#include "report_env.h"

using namespace gpu_agent;

namespace {

PassOutcome pass_with(const std::string& agent_conf, const std::string& host, std::string& log_out) {
  std::ostringstream text;
  Log log{text};
  Reporter r(env::config(env::placement_url(), agent_conf),
             ReportSources{.fixture = env::fixture("a100-8x-passthrough"), .libvirt_uri = "none", .hostname = host},
             log);
  PassOutcome o = r.pass(false, nullptr);
  log_out = text.str();
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(host_traits_owner)

BOOST_AUTO_TEST_CASE(handing_host_traits_to_nova_keeps_them_and_the_agent_stops_setting_them) {
  const std::string host = env::unique("owner");
  const std::string root = env::make_compute_node(host);
  const std::string extra = "state_dir = " + env::work_dir() + "/" + host +
                            "-state\nhost_traits = CUSTOM_HANDED_OVER\n";
  std::string log;
  auto a = pass_with(extra, host, log);
  BOOST_TEST_REQUIRE((a.kind == PassOutcome::Kind::ok), a.message << "\n" << log);
  BOOST_TEST(env::read_tree(root).traits(root).count("CUSTOM_HANDED_OVER") == 1u);

  // nova's provider config owns it now: the agent must not take it away, not even once
  auto b = pass_with(extra + "host_traits_owner = nova\n", host, log);
  BOOST_TEST_REQUIRE((b.kind == PassOutcome::Kind::ok), b.message << "\n" << log);
  BOOST_TEST(env::read_tree(root).traits(root).count("CUSTOM_HANDED_OVER") == 1u);
  BOOST_TEST(env::read_tree(root).children().size() == 1u);  // the pool is still the agent's

  // a second pass as nova-owned: nothing left to hand over, nothing removed
  auto c = pass_with(extra + "host_traits_owner = nova\n", host, log);
  BOOST_TEST_REQUIRE((c.kind == PassOutcome::Kind::ok), c.message << "\n" << log);
  BOOST_TEST(env::read_tree(root).traits(root).count("CUSTOM_HANDED_OVER") == 1u);
}

BOOST_AUTO_TEST_CASE(with_nova_as_owner_a_fresh_host_gets_no_host_traits_from_the_agent) {
  const std::string host = env::unique("owner-fresh");
  const std::string root = env::make_compute_node(host);
  std::string log;
  auto o = pass_with("state_dir = " + env::work_dir() + "/" + host +
                         "-state\nhost_traits = CUSTOM_NOVAS_JOB\n"
                         "host_traits_owner = nova\n",
                     host, log);
  BOOST_TEST_REQUIRE((o.kind == PassOutcome::Kind::ok), o.message << "\n" << log);
  env::Tree t = env::read_tree(root);
  BOOST_TEST(t.traits(root).count("CUSTOM_NOVAS_JOB") == 0u);
  BOOST_TEST(t.children().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
