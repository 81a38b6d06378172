// The agent's reconcile against a REAL Placement (python3-placement on 127.0.0.1):
// the cases of the placement-reporting issue, each from the operator's side.
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "log.h"
#include "loopback_server.h"
#include "report.h"
#include "uuid5.h"
#include "report_env.h"

using namespace gpu_agent;
using placement::Inventory;

namespace {

const std::vector<std::string> kA100{"0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
                                     "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"};
const std::string kRC = "CUSTOM_PGPU_10DE_20B2";

struct Agent {
  std::ostringstream log_text;
  Log log{log_text};
  Reporter reporter;
  Agent(const AgentConfig& cfg, const std::string& fixture, const std::string& host)
      : reporter(cfg, ReportSources{.fixture = fixture, .libvirt_uri = "none", .hostname = host}, log) {}
  PassOutcome last;  // the outcome of the last pass()
  PassOutcome pass() { return last = reporter.pass(false, nullptr); }
};

std::string pool_uuid(const std::string& host) { return uuid5(placement::pool_provider_name(host, kRC)); }

void expect_ok(const PassOutcome& o, const Agent& a) {
  BOOST_TEST_REQUIRE((o.kind == PassOutcome::Kind::ok), o.message << "\nlog:\n" << a.log_text.str());
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(cold_start_creates_exactly_the_pool_and_a_second_pass_sends_no_writes) {
  const std::string host = env::unique("cold");
  const std::string root = env::make_compute_node(host);
  AgentConfig cfg = env::config(env::placement_url(), "host_traits = CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3");
  Agent a(cfg, env::fixture("a100-8x-passthrough"), host);
  expect_ok(a.pass(), a);
  const PassStats cold = a.last.stats;
  BOOST_TEST(cold.writes >= 4u);  // create, inventory, pool traits, root traits (+ classes/traits not yet known)
  BOOST_TEST_MESSAGE("cold start: " << cold.requests << " requests, " << cold.writes << " writes");

  env::Tree t = env::read_tree(root);
  auto kids = t.children();
  BOOST_REQUIRE_EQUAL(kids.size(), 1u);
  BOOST_TEST(kids[0].uuid == pool_uuid(host));
  BOOST_TEST(kids[0].name == host + ":gpu-pool:" + kRC);
  BOOST_TEST(*kids[0].parent_uuid == root);
  auto inv = t.inventory(kids[0].uuid);
  BOOST_REQUIRE_EQUAL(inv.size(), 1u);
  BOOST_TEST(inv[kRC].total == 8);
  BOOST_TEST(inv[kRC].max_unit == 8);
  BOOST_TEST(inv[kRC].reserved == 0);
  BOOST_TEST(
      (t.traits(kids[0].uuid) == std::set<std::string>{"CUSTOM_GPU_AGENT_MANAGED", "CUSTOM_GPU_MODEL_A100_SXM4_80GB",
                                                       "CUSTOM_GPU_PRODUCT_10DE_20B2", "CUSTOM_GPU_VENDOR_10DE"}));
  BOOST_TEST((t.traits(root) == std::set<std::string>{"COMPUTE_NODE", "CUSTOM_SHARE_GPU_XXX_HOST_LEVEL3"}));
  BOOST_TEST(t.inventory(root).count("VCPU") == 1u);  // nova's inventory untouched

  expect_ok(a.pass(), a);
  BOOST_TEST(a.last.stats.requests == 1u);  // steady state: one GET
  BOOST_TEST(a.last.stats.writes == 0u);

  Agent fresh(cfg, env::fixture("a100-8x-passthrough"), host);  // a restarted agent
  expect_ok(fresh.pass(), fresh);
  BOOST_TEST(fresh.last.stats.writes == 0u);
  // It resumed from state.json: the one tree GET (no GET /), not a full read.
  BOOST_TEST(fresh.last.stats.requests == 1u);
  BOOST_TEST(fresh.last.stats.quick);

  // The compute node state.json names is gone (another placement, nova
  // re-registered): the restarted agent looks it up by name in the same pass.
  auto st = gpu_agent::load_state(cfg.state_dir + "/state.json");
  BOOST_REQUIRE(st.ok());
  BOOST_REQUIRE(st->resume.has_value());
  BOOST_TEST(st->resume->root_uuid == root);
  st->resume->root_uuid = "9b7e5f38-0000-4000-8000-000000000000";
  BOOST_REQUIRE(gpu_agent::save_state(cfg.state_dir + "/state.json", *st).ok());
  Agent moved(cfg, env::fixture("a100-8x-passthrough"), host);
  expect_ok(moved.pass(), moved);
  BOOST_TEST(moved.last.stats.writes == 0u);
  BOOST_TEST(gpu_agent::load_state(cfg.state_dir + "/state.json")->resume->root_uuid == root);
}

BOOST_AUTO_TEST_CASE(a_fleets_first_pass_after_the_first_node_is_five_requests_and_the_first_node_creates_the_rest) {
  // A first deployment of two nodes, no host traits, a pool with a resource
  // class and a trait this Placement has never seen. The first node's writes
  // are refused (400) for lacking them and create them; the second node's
  // first pass is the root by name, its tree, the pool, its inventory and its
  // traits: no GET /, no trait or class requests, nova's root not even read.
  std::string id = env::new_uuid().substr(0, 8);
  for (auto& ch : id) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string rc = "CUSTOM_PGPU_FLEET_" + id, trait = "CUSTOM_FLEET_" + id;
  const std::string pool = "[pool:a100]\nresource_class = " + rc + "\nmatch = 10de:20b2\ntraits = " + trait + "\n";
  const std::string fixture = env::fixture("a100-8x-passthrough");
  const std::string first_host = env::unique("fleet-a"), second_host = env::unique("fleet-b");
  const std::string first_root = env::make_compute_node(first_host);
  const std::string second_root = env::make_compute_node(second_host);

  Agent a(env::config(env::placement_url(), "", pool), fixture, first_host);
  expect_ok(a.pass(), a);
  BOOST_TEST_REQUIRE(a.last.stats.by_status.count({"PUT", 400}) == 1u, a.log_text.str());
  BOOST_TEST(a.last.stats.by_status.at({"PUT", 400}) == 2u, a.log_text.str());  // inventory and traits, once each
  BOOST_TEST(contains(a.log_text.str(), "create resource class " + rc + " (placement did not have it)"),
             a.log_text.str());
  BOOST_TEST(contains(a.log_text.str(), "create trait " + trait + " (placement did not have it)"), a.log_text.str());
  const std::string first_pool = uuid5(placement::pool_provider_name(first_host, rc));
  BOOST_TEST(env::read_tree(first_root).inventory(first_pool)[rc].total == 8);
  BOOST_TEST(env::read_tree(first_root).traits(first_pool).count(trait) == 1u);

  Agent b(env::config(env::placement_url(), "", pool), fixture, second_host);
  expect_ok(b.pass(), b);
  BOOST_TEST(b.last.stats.requests == 5u, b.log_text.str());
  BOOST_TEST(b.last.stats.writes == 3u);
  BOOST_TEST(b.last.stats.by_status.count({"PUT", 400}) == 0u);
  env::Tree t = env::read_tree(second_root);
  BOOST_REQUIRE_EQUAL(t.children().size(), 1u);
  BOOST_TEST(t.inventory(t.children()[0].uuid)[rc].total == 8);
  BOOST_TEST(t.traits(t.children()[0].uuid).count(trait) == 1u);
  BOOST_TEST(t.traits(t.children()[0].uuid).count("CUSTOM_GPU_AGENT_MANAGED") == 1u);
  BOOST_TEST((t.traits(second_root) == std::set<std::string>{"COMPUTE_NODE"}));
  expect_ok(b.pass(), b);
  BOOST_TEST(b.last.stats.requests == 1u);  // then the steady-state GET
}

BOOST_AUTO_TEST_CASE(dry_run_prints_the_plan_and_changes_nothing) {
  const std::string host = env::unique("dry");
  const std::string root = env::make_compute_node(host);
  Agent a(env::config(), env::fixture("a100-8x-passthrough"), host);
  std::ostringstream plan;
  auto o = a.reporter.pass(true, &plan);
  expect_ok(o, a);
  BOOST_TEST(o.stats.writes == 0u);
  BOOST_TEST(contains(plan.str(), "POST /resource_providers {\"name\":\"" + host + ":gpu-pool:" + kRC));
  BOOST_TEST(contains(plan.str(), "\"total\":8"));
  BOOST_TEST(env::read_tree(root).children().empty());
}

BOOST_AUTO_TEST_CASE(concurrent_root_trait_write_gets_409_and_both_writers_traits_survive) {
  const std::string host = env::unique("race");
  const std::string root = env::make_compute_node(host);
  Agent a(env::config(env::placement_url(), "host_traits = CUSTOM_AGENT_HOST_TRAIT"),
          env::fixture("a100-8x-passthrough"), host);
  bool fired = false;
  a.reporter.set_before_write_hook([&] {
    if (fired) return;
    fired = true;
    // nova-compute (another process in real life) writes the root's traits between our read and write
    auto c = env::client();
    auto cur = c->get_traits(root);
    BOOST_REQUIRE(cur);
    auto t = cur->traits;
    t.insert("CUSTOM_WRITTEN_BY_NOVA");
    BOOST_REQUIRE(c->ensure_trait("CUSTOM_WRITTEN_BY_NOVA"));
    BOOST_REQUIRE(c->put_traits(root, cur->generation, t));
  });
  expect_ok(a.pass(), a);
  BOOST_TEST(fired);
  BOOST_TEST(contains(a.log_text.str(), "conflict on the provider tree (host traits on " + host), a.log_text.str());
  auto traits = env::read_tree(root).traits(root);
  BOOST_TEST(traits.count("CUSTOM_WRITTEN_BY_NOVA") == 1u);
  BOOST_TEST(traits.count("CUSTOM_AGENT_HOST_TRAIT") == 1u);
  BOOST_TEST(traits.count("COMPUTE_NODE") == 1u);
}

BOOST_AUTO_TEST_CASE(gpu_leaving_while_allocated_keeps_the_allocation_and_blocks_new_ones) {
  const std::string host = env::unique("shrink");
  const std::string root = env::make_compute_node(host);
  const AgentConfig cfg = env::config();
  Agent a(cfg, env::fixture("a100-8x-passthrough"), host);
  expect_ok(a.pass(), a);
  const std::string pool = pool_uuid(host);
  const std::string consumer = env::allocate(pool, kRC, 3);

  // six GPUs unbound from vfio-pci (they left), three in use: total = max(2, 3), reserved = 1
  std::vector<std::string> gone(kA100.begin(), kA100.begin() + 6);
  Agent b(cfg, env::fixture("a100-8x-passthrough", gone), host);
  expect_ok(b.pass(), b);
  auto inv = env::read_tree(root).inventory(pool);
  BOOST_TEST(inv[kRC].total == 3);
  BOOST_TEST(inv[kRC].reserved == 1);
  BOOST_TEST(env::http_status("GET", "/allocations/" + consumer) == 200);
  BOOST_CHECK_THROW(env::allocate(pool, kRC, 1), std::runtime_error);  // nothing new lands

  // all eight gone: the pool stays for the three in use, fully reserved
  Agent c(cfg, env::fixture("a100-8x-passthrough", kA100), host);
  expect_ok(c.pass(), c);
  inv = env::read_tree(root).inventory(pool);
  BOOST_TEST(inv[kRC].total == 3);
  BOOST_TEST(inv[kRC].reserved == 3);
  BOOST_TEST(contains(c.log_text.str(), "kept until they are freed"), c.log_text.str());

  // the guest is deleted: the empty pool goes
  BOOST_TEST(env::http_status("DELETE", "/allocations/" + consumer) == 204);
  expect_ok(c.pass(), c);
  BOOST_TEST(env::read_tree(root).children().empty());
}

BOOST_AUTO_TEST_CASE(trait_removed_from_config_disappears_and_others_traits_stay) {
  const std::string host = env::unique("traits");
  const std::string root = env::make_compute_node(host);
  const std::string extra = "state_dir = " + env::work_dir() + "/" + host + "-state\n";
  Agent a(env::config(env::placement_url(), extra + "host_traits = CUSTOM_KEEP_ME, CUSTOM_DROP_ME"),
          env::fixture("a100-8x-passthrough"), host);
  expect_ok(a.pass(), a);
  {  // an operator adds a trait by hand
    auto c = env::client();
    auto cur = c->get_traits(root);
    auto t = cur->traits;
    t.insert("CUSTOM_OPERATOR_SET");
    BOOST_REQUIRE(c->ensure_trait("CUSTOM_OPERATOR_SET"));
    BOOST_REQUIRE(c->put_traits(root, cur->generation, t));
  }
  Agent b(env::config(env::placement_url(), extra + "host_traits = CUSTOM_KEEP_ME"),
          env::fixture("a100-8x-passthrough"), host);
  expect_ok(b.pass(), b);
  auto traits = env::read_tree(root).traits(root);
  BOOST_TEST(traits.count("CUSTOM_DROP_ME") == 0u);
  BOOST_TEST(traits.count("CUSTOM_KEEP_ME") == 1u);
  BOOST_TEST(traits.count("CUSTOM_OPERATOR_SET") == 1u);
  BOOST_TEST(traits.count("COMPUTE_NODE") == 1u);
}

BOOST_AUTO_TEST_CASE(foreign_child_providers_and_their_traits_are_untouched) {
  const std::string host = env::unique("foreign");
  const std::string root = env::make_compute_node(host);
  auto c = env::client();
  const std::string foreign = env::new_uuid();
  BOOST_REQUIRE(c->create_provider(host + "_pci_0000_84_00_0", foreign, root));
  BOOST_REQUIRE(c->ensure_trait("CUSTOM_SOMEONE_ELSES"));
  auto ft = c->put_traits(foreign, 0, {"CUSTOM_SOMEONE_ELSES"});
  BOOST_REQUIRE(ft);

  const std::string extra = "state_dir = " + env::work_dir() + "/" + host + "-state\n";
  Agent a(env::config(env::placement_url(), extra), env::fixture("a100-8x-passthrough"), host);
  expect_ok(a.pass(), a);
  Agent b(env::config(env::placement_url(), extra + "default_pools = false"), env::fixture("a100-8x-passthrough"),
          host);
  expect_ok(b.pass(), b);  // no pools wanted any more: ours is deleted, the foreign one is not
  env::Tree t = env::read_tree(root);
  BOOST_REQUIRE_EQUAL(t.children().size(), 1u);
  BOOST_TEST(t.children()[0].uuid == foreign);
  BOOST_TEST(t.children()[0].generation == ft->generation);
  BOOST_TEST(t.traits(foreign) == std::set<std::string>{"CUSTOM_SOMEONE_ELSES"});
}

BOOST_AUTO_TEST_CASE(devices_nova_reports_itself_get_no_pool) {
  const std::string host = env::unique("novapci");
  const std::string root = env::make_compute_node(host);
  auto c = env::client();
  for (const std::string addr : {"0000:07:00.0", "0000:0F:00.0"}) {  // nova's <host>_<ADDR upper> naming
    const std::string u = env::new_uuid();
    BOOST_REQUIRE(
        c->create_provider(host + "_" + (addr == "0000:07:00.0" ? std::string("0000:07:00.0") : addr), u, root));
    BOOST_REQUIRE(c->put_traits(u, 0, {"COMPUTE_MANAGED_PCI_DEVICE"}));
  }
  Agent a(env::config(), env::fixture("a100-8x-passthrough"), host);
  expect_ok(a.pass(), a);
  BOOST_TEST(env::read_tree(root).inventory(pool_uuid(host))[kRC].total == 6);
  BOOST_TEST(contains(a.log_text.str(), "0000:0f:00.0 is reported by nova itself"), a.log_text.str());
}

BOOST_AUTO_TEST_CASE(missing_compute_node_is_a_retry_with_the_name_it_looked_for) {
  Agent a(env::config(), env::fixture("a100-8x-passthrough"), "no-such-node");
  auto o = a.pass();
  BOOST_TEST((o.kind == PassOutcome::Kind::retry));
  BOOST_TEST(contains(o.message, "'no-such-node'"), o.message);
  BOOST_TEST(contains(o.message, "compute_node_name"), o.message);
}

BOOST_AUTO_TEST_CASE(a_token_placement_refuses_is_fatal_not_retried) {
  AgentConfig cfg = env::config();
  cfg.placement.token = "bob:someproject";  // noauth2: not admin -> 403 on every call
  Agent a(cfg, env::fixture("a100-8x-passthrough"), "whatever");
  auto o = a.pass();
  BOOST_TEST((o.kind == PassOutcome::Kind::fatal), o.message);
  BOOST_TEST(contains(o.message, "403"), o.message);
  BOOST_TEST(a.last.stats.requests <= 3u);
}

BOOST_AUTO_TEST_CASE(garbage_500_and_silence_are_clear_errors_without_hangs) {
  struct Case {
    std::string name, expect;
    loopback::Server::Handler handler;
  };
  std::vector<Case> cases{
      {"garbage", "",
       [](loopback::Server&, loopback::Conn& c, int) {
         if (c.read_request()) c.write("this is not HTTP at all\r\n\r\n");
       }},
      {"html 500", "500",
       [](loopback::Server&, loopback::Conn& c, int) {
         while (c.read_request())
           c.write(loopback::response(500, "Internal Server Error", "<html><body><h1>Oops</h1></body></html>",
                                      "Content-Type: text/html\r\n"));
       }},
      {"silence", "timed out", [](loopback::Server&, loopback::Conn& c, int) { c.hold(); }},
  };
  for (auto& k : cases) {
    loopback::Server server(k.handler);
    AgentConfig cfg = env::config(server.url());
    cfg.placement.timeout = 1;
    Agent a(cfg, env::fixture("a100-8x-passthrough"), "x");
    const auto start = std::chrono::steady_clock::now();
    auto o = a.pass();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_CONTEXT(k.name) {
      BOOST_TEST((o.kind == PassOutcome::Kind::retry), o.message);
      BOOST_TEST(contains(o.message, server.url()), o.message);
      if (!k.expect.empty()) BOOST_TEST(contains(o.message, k.expect), o.message);
      BOOST_TEST(took < 10.0);
    }
  }
}

// The daemon as a process: placement stopped mid-run and started again.
BOOST_AUTO_TEST_CASE(daemon_recovers_when_placement_comes_back_and_exits_0_on_sigterm) {
  const std::string state = env::work_dir() + "/placement-restart";
  int st = 0;
  std::string out = env::run(std::string(PLACEMENT_SERVER_SCRIPT) + " start " + state + " 0", &st);
  BOOST_REQUIRE_MESSAGE(st == 0, out);
  const std::string url = out.substr(out.rfind("http://"), out.find_last_not_of("\n ") - out.rfind("http://") + 1);
  const std::string port = url.substr(url.rfind(':') + 1);
  const std::string host = env::unique("daemon");
  env::make_compute_node(host, url);
  const std::string conf = env::config_file(url);
  const std::string log = env::work_dir() + "/" + host + ".log";

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::freopen(log.c_str(), "w", stderr);
    ::execl(env::kAgentBinary, env::kAgentBinary, "--config", conf.c_str(), "run", "--fixture",
            env::fixture("a100-8x-passthrough").c_str(), "--compute-node-name", host.c_str(), "-v",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto log_text = [&] {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  auto wait_for = [&](const std::string& what, double seconds) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
      if (contains(log_text(), what)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  BOOST_TEST_REQUIRE(wait_for("create pool", 20), log_text());
  env::run(std::string(PLACEMENT_SERVER_SCRIPT) + " stop " + state);
  BOOST_TEST(wait_for("retrying in", 15), log_text());
  out = env::run(std::string(PLACEMENT_SERVER_SCRIPT) + " start " + state + " " + port, &st);
  BOOST_REQUIRE_MESSAGE(st == 0, out);
  BOOST_TEST(wait_for("placement reachable again", 30), log_text());

  // SIGHUP with a broken file: logged, the old config kept, the daemon keeps running
  const std::string good = [&] {
    std::ifstream in(conf);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  std::ofstream(conf) << "[agent]\nhost_traits = not_custom\n";
  ::kill(pid, SIGHUP);
  BOOST_TEST(wait_for("configuration not reloaded, keeping the old one", 15), log_text());
  BOOST_TEST(contains(log_text(), conf + ":2: [agent] host_traits"), log_text());
  // SIGHUP with a new host trait: it reaches placement without a restart
  std::ofstream(conf) << "[agent]\nhost_traits = CUSTOM_AFTER_SIGHUP\n" << good.substr(good.find('\n') + 1);
  ::kill(pid, SIGHUP);
  BOOST_TEST(wait_for("configuration reloaded", 15), log_text());
  BOOST_TEST(wait_for("add CUSTOM_AFTER_SIGHUP", 15), log_text());
  {
    auto c = env::client(url);
    gpu_agent::placement::ProviderQuery q;
    q.name = host;
    auto root = c->list_providers(q);
    BOOST_REQUIRE(root && root->size() == 1u);
    auto traits = c->get_traits(root->front().uuid);
    BOOST_REQUIRE(traits);
    BOOST_TEST(traits->traits.count("CUSTOM_AFTER_SIGHUP") == 1u);
  }

  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  BOOST_TEST(contains(log_text(), "received SIGTERM; exiting"), log_text());
  env::run(std::string(PLACEMENT_SERVER_SCRIPT) + " stop " + state);
}

BOOST_AUTO_TEST_CASE(cli_exit_codes_and_messages) {
  int st = 0;
  // a bad config: exit 2, file, line and key named, nothing sent
  const std::string bad = env::work_dir() + "/bad.conf";
  std::ofstream(bad) << "[agent]\nhost_traits = lower_case\n";
  std::string out = env::run(std::string(env::kAgentBinary) + " --config " + bad + " report --once --fixture " +
                                 env::fixture("a100-8x-passthrough"),
                             &st);
  BOOST_TEST(st == 2);
  BOOST_TEST(contains(out, bad + ":2: [agent] host_traits: trait 'lower_case' must start with CUSTOM_"), out);

  // no compute node: exit 1 and the name it looked for
  const std::string conf = env::config_file();
  out = env::run(std::string(env::kAgentBinary) + " --config " + conf + " report --once --fixture " +
                     env::fixture("a100-8x-passthrough") + " --compute-node-name nowhere-7",
                 &st);
  BOOST_TEST(st == 1);
  BOOST_TEST(contains(out, "'nowhere-7'"), out);

  // a refused token: the daemon exits 1 at once instead of retrying
  const std::string refused = env::config_file(env::placement_url());
  {
    std::ofstream f(refused, std::ios::app);
    f << "token = bob:proj\n";
  }
  const auto start = std::chrono::steady_clock::now();
  out = env::run("timeout 20 " + std::string(env::kAgentBinary) + " --config " + refused + " run --fixture " +
                     env::fixture("a100-8x-passthrough") + " --compute-node-name x",
                 &st);
  BOOST_TEST(st == 1, out);
  BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 10.0);
  BOOST_TEST(contains(out, "403"), out);
}
