// The agent's keystone authentication and TLS against REAL services on
// 127.0.0.1: keystone (python3-keystone, fernet, 20 s tokens) with its public
// endpoint behind stunnel, placement with auth_strategy = keystone, and
// stunnel in front of placement, advertised in the catalog as the public
// endpoint. The stack is started once (keystone_env.cpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "config.h"
#include "keystone.h"
#include "keystone_env.h"
#include "log.h"
#include "report.h"

using namespace gpu_agent;
using ksenv::contains;
using ksenv::stack;

namespace {

const std::string kRC = "CUSTOM_PGPU_10DE_20B2";  // the A100 fixture's default pool

struct Agent {
  std::ostringstream log_text;
  Log log;
  Reporter reporter;
  Agent(const AgentConfig& cfg, const std::string& host, Log::Level level = Log::Level::info)
      : log(log_text, level),
        reporter(cfg, ReportSources{.fixture = ksenv::a100_fixture(), .libvirt_uri = "none", .hostname = host}, log) {}
  PassOutcome last;  // the outcome of the last pass()
  PassOutcome pass() { return last = reporter.pass(false, nullptr); }
  keystone::Session& session() {
    auto* ks = dynamic_cast<keystone::KeystoneTokens*>(reporter.tokens());
    if (!ks) throw std::runtime_error("the reporter has no keystone token source");
    return ks->session();
  }
};

// The error of a failed Result, "" for a good one (BOOST_TEST evaluates its message either way).
template <typename T>
std::string why(const Result<T>& r) {
  return r ? std::string() : r.error().message;
}

AgentConfig load(const std::string& path) {
  auto c = load_agent_config(path);
  if (!c) throw std::runtime_error(c.error().message);
  return *c;
}

void expect_ok(const PassOutcome& o, const Agent& a) {
  BOOST_TEST_REQUIRE((o.kind == PassOutcome::Kind::ok), o.message << "\nlog:\n" << a.log_text.str());
}

// The compute node `host` has exactly one pool, the A100 one, with all 8 GPUs.
void expect_pool(const std::string& root, const std::string& host) {
  const auto p = ksenv::pools(root, kRC);
  BOOST_TEST(p.size() == 1u);
  auto it = p.find(host + ":gpu-pool:" + kRC);
  BOOST_TEST((it != p.end() && it->second == 8), "pools under " << host << ": " << p.size());
}

std::string with(std::map<std::string, std::string> keys, const std::map<std::string, std::string>& changes,
                 const std::string& agent_extra = "") {
  for (const auto& [k, v] : changes) {
    if (v.empty()) keys.erase(k);
    else keys[k] = v;
  }
  return ksenv::config_file(keys, agent_extra);
}

// Status of GET /resource_providers with this token, straight to placement.
int placement_status_with(const std::string& token) {
  auto c = placement::PlacementClient::create(stack().placement_http, {},
                                              std::make_shared<placement::StaticToken>(token));
  BOOST_TEST_REQUIRE(bool(c));
  auto r = (*c)->http().request("GET", "/resource_providers",
                                {{"X-Auth-Token", token}, {"OpenStack-API-Version", "placement 1.20"}});
  BOOST_TEST_REQUIRE(bool(r), why(r));
  return r->status;
}

// Waits (up to 5 s) for keystone's request log to show `want` 401 token requests, returns the count.
size_t refused_token_posts_settled(size_t want) {
  for (int i = 0; i < 50 && ksenv::keystone_token_posts(401) < want; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return ksenv::keystone_token_posts(401);
}

// Session: token, reuse, endpoint by interface and region, the errors.
void check_session(const keystone::Credentials& base) {
  auto s = ksenv::session(base);
  auto t1 = s->token();
  BOOST_TEST_REQUIRE(bool(t1), why(t1));
  BOOST_TEST(t1->size() > 100u);  // a fernet token
  auto t2 = s->token();
  BOOST_TEST_REQUIRE(bool(t2));
  BOOST_TEST(*t2 == *t1);
  BOOST_TEST(s->token_requests() == 1u);
  BOOST_TEST(placement_status_with(*t1) == 200);  // placement accepts it (admin role on service)

  // valid_interfaces internal,public (nova's default order): the internal endpoint, plain http
  auto ep = s->endpoint("placement");
  BOOST_TEST_REQUIRE(bool(ep), why(ep));
  BOOST_TEST(*ep == stack().placement_http);
  BOOST_TEST(s->token_requests() == 1u);  // the catalog came with the token

  auto endpoint_for = [&](std::vector<std::string> interfaces, const std::string& region) {
    keystone::Credentials c = base;
    c.valid_interfaces = std::move(interfaces);
    c.region_name = region;
    return ksenv::session(c)->endpoint("placement");
  };
  auto pub = endpoint_for({"public", "internal"}, "RegionOne");
  BOOST_TEST_REQUIRE(bool(pub), why(pub));
  BOOST_TEST(*pub == stack().placement_https);
  auto two = endpoint_for({"internal", "public"}, "RegionTwo");  // RegionTwo has only a public one
  BOOST_TEST_REQUIRE(bool(two), why(two));
  BOOST_TEST(*two == ksenv::kRegionTwoUrl);

  auto none = endpoint_for({"internal", "public"}, "RegionNowhere");
  BOOST_TEST_REQUIRE(!none);
  const std::string& m = none.error().message;
  BOOST_TEST(contains(m, "no placement endpoint for interfaces internal,public in region RegionNowhere"), m);
  BOOST_TEST(contains(m, "public@RegionOne"), m);  // what the catalog does have
  BOOST_TEST(contains(m, "region_name"), m);
  BOOST_TEST(contains(m, "endpoint_override"), m);
  auto admin_if = endpoint_for({"admin"}, "RegionOne");
  BOOST_TEST_REQUIRE(!admin_if);
  BOOST_TEST(contains(admin_if.error().message, "for interfaces admin in region RegionOne"), admin_if.error().message);
  BOOST_TEST(contains(admin_if.error().message, "valid_interfaces"), admin_if.error().message);
}

}  // namespace

BOOST_AUTO_TEST_CASE(session_password_token_reuse_and_catalog_endpoint) { check_session(ksenv::password_creds()); }

BOOST_AUTO_TEST_CASE(session_application_credential_token_reuse_and_catalog_endpoint) {
  check_session(ksenv::appcred_creds());
}

BOOST_AUTO_TEST_CASE(report_once_takes_the_endpoint_from_the_catalog) {
  for (const auto& [name, keys] :
       {std::pair{"password", ksenv::password_keys()}, std::pair{"appcred", ksenv::appcred_keys()}}) {
    BOOST_TEST_CONTEXT("auth_type " << keys.at("auth_type")) {
      const std::string host = ksenv::unique(std::string("cli-") + name);
      const std::string root = ksenv::make_compute_node(host);
      BOOST_TEST_REQUIRE(!keys.count("endpoint_override"));
      auto r = ksenv::agent(ksenv::config_file(keys), "report --once", host);
      BOOST_TEST_REQUIRE(r.status == 0, r.out);
      BOOST_TEST(contains(r.out, "change(s) applied"), r.out);
      expect_pool(root, host);
      r = ksenv::agent(ksenv::config_file(keys), "report --once", host);  // idempotent
      BOOST_TEST(r.status == 0, r.out);
      BOOST_TEST(contains(r.out, "no changes"), r.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(report_once_reuses_nova_conf_credentials) {
  // nova.conf as a deployment has it: other sections around [placement], which is the one
  // keystone-server.sh wrote (auth_url = keystone's PUBLIC https endpoint) plus nova's cafile.
  const auto& s = stack();
  int n = 0;
  for (const std::string src : {"placement-password.conf", "placement-appcred.conf"}) {
    BOOST_TEST_CONTEXT(src) {
      const std::string nova = s.work + "/nova-" + std::to_string(++n) + ".conf";
      const std::string section = ksenv::read_file(s.ks_state + "/" + src);
      BOOST_TEST_REQUIRE(contains(section, "auth_url = " + s.auth_url_https));
      ksenv::write_file(nova, "[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n\n" + section + "cafile = " + s.ca +
                                  "\n\n[pci]\nreport_in_placement = false\n");
      const std::string host = ksenv::unique("nova-conf");
      const std::string root = ksenv::make_compute_node(host);
      // the agent's own [placement] says nothing usable: everything comes from nova.conf
      const std::string conf = ksenv::config_file({{"timeout", "10"}});
      auto r = n == 1 ? ksenv::agent(conf, "report --once", host, "--nova-config " + nova)
                      : ksenv::agent(ksenv::config_file({{"timeout", "10"}}, "nova_config = " + nova), "report --once",
                                     host);  // [agent] nova_config
      BOOST_TEST_REQUIRE(r.status == 0, r.out);
      expect_pool(root, host);
    }
  }
  // without nova.conf the same agent config is an error that says what to do
  auto r = ksenv::agent(ksenv::config_file({{"timeout", "10"}}), "report --once", "whatever");
  BOOST_TEST(r.status == 2, r.out);
  BOOST_TEST(contains(r.out, "--nova-config"), r.out);
}

BOOST_AUTO_TEST_CASE(a_region_the_catalog_lacks_is_a_config_error_exit_2) {
  auto r = ksenv::agent(with(ksenv::password_keys(), {{"region_name", "RegionNowhere"}}), "report --once", "cn-region");
  BOOST_TEST(r.status == 2, r.out);
  BOOST_TEST(contains(r.out, "no placement endpoint for interfaces internal,public in region RegionNowhere"), r.out);
  BOOST_TEST(contains(r.out, "[placement]"), r.out);
}

BOOST_AUTO_TEST_CASE(wrong_credentials_exit_1_once_with_the_fix_named) {
  const std::string bad_pw = "wrong-pw-" + ksenv::new_uuid();
  const std::string bad_secret = "wrong-secret-" + ksenv::new_uuid();
  const std::string pw_conf = with(ksenv::password_keys(), {{"password", bad_pw}});
  const std::string ac_conf = with(ksenv::appcred_keys(), {{"application_credential_secret", bad_secret}});

  size_t refused = ksenv::keystone_token_posts(401);
  auto r = ksenv::agent(pw_conf, "report --once", "cn-wrong");
  BOOST_TEST(r.status == 1, r.out);
  BOOST_TEST(contains(r.out, "keystone refused the credentials (401)"), r.out);
  BOOST_TEST(contains(r.out, "check username/password"), r.out);
  BOOST_TEST(contains(r.out, stack().auth_url_http), r.out);  // which keystone
  BOOST_TEST(!contains(r.out, bad_pw), r.out);
  BOOST_TEST(refused_token_posts_settled(refused + 1) == refused + 1);

  r = ksenv::agent(ac_conf, "report --once", "cn-wrong");
  BOOST_TEST(r.status == 1, r.out);
  BOOST_TEST(contains(r.out, "keystone refused the credentials (401)"), r.out);
  BOOST_TEST(contains(r.out, "application credential id/secret"), r.out);
  BOOST_TEST(!contains(r.out, bad_secret), r.out);

  // The daemon: refused credentials are fatal at once, no retry storm. Once with the endpoint
  // from the catalog (the token is needed to read it), once with endpoint_override (the first
  // placement request needs the token).
  const std::string pw_override = with(ksenv::password_keys(),
                                       {{"password", bad_pw}, {"endpoint_override", stack().placement_http}});
  for (const auto& conf : {pw_conf, pw_override}) {
    BOOST_TEST_CONTEXT(ksenv::read_file(conf)) {
      refused = refused_token_posts_settled(0);
      r = ksenv::run("timeout 60 " + std::string(ksenv::kAgentBinary) + " --config " + conf + " run --fixture " +
                     ksenv::a100_fixture() + " --compute-node-name cn-wrong");
      BOOST_TEST(r.status == 1, r.out);
      BOOST_TEST(r.seconds < 10.0, r.out);
      BOOST_TEST(contains(r.out, "keystone refused the credentials (401)"), r.out);
      BOOST_TEST(refused_token_posts_settled(refused + 1) == refused + 1, "one token request, not a storm");
    }
  }
}

BOOST_AUTO_TEST_CASE(token_expiry_and_revocation_are_transparent) {
  const std::string host = ksenv::unique("expiry");
  const std::string root = ksenv::make_compute_node(host);
  const std::string conf = ksenv::config_file(ksenv::password_keys());

  // The daemon runs alongside (-v traces every keystone request), across the same expiry.
  const std::string host2 = ksenv::unique("expiry-daemon");
  const std::string root2 = ksenv::make_compute_node(host2);
  const std::string daemon_log = stack().work + "/" + host2 + ".log";
  const std::string conf2 = ksenv::config_file(ksenv::password_keys());
  const std::string fixture = ksenv::a100_fixture();
  struct Child {  // stopped whatever happens to this test
    pid_t pid = -1;
    int status = -1;
    int stop() {
      if (pid > 0) {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, &status, 0);
        pid = -1;
      }
      return status;
    }
    ~Child() { stop(); }
  } child;
  const pid_t daemon = ::fork();
  BOOST_TEST_REQUIRE(daemon >= 0);
  if (daemon == 0) {
    const int fd = ::open(daemon_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(ksenv::kAgentBinary, ksenv::kAgentBinary, "--config", conf2.c_str(), "run", "-v", "--fixture",
            fixture.c_str(), "--compute-node-name", host2.c_str(), "--max-passes", "200", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  child.pid = daemon;

  const auto t0 = std::chrono::steady_clock::now();
  Agent a(load(conf), host);
  expect_ok(a.pass(), a);
  // The first token was issued before this instant: waiting from here (not from t0) outlasts it
  // however long that first pass took on a loaded machine.
  const auto first_token_by = std::chrono::steady_clock::now();
  expect_pool(root, host);
  keystone::Session& s = a.session();
  BOOST_TEST(s.token_requests() == 1u);
  const std::string first = *s.token();
  expect_ok(a.pass(), a);
  BOOST_TEST(a.last.stats.quick);
  BOOST_TEST(s.token_requests() == 1u);  // reused

  // Past the first token's expiry (keystone's times are whole seconds, truncated).
  std::this_thread::sleep_until(first_token_by + std::chrono::seconds(ksenv::kTokenLifetime + 1));
  BOOST_TEST(placement_status_with(first) == 401);  // it really is dead
  expect_ok(a.pass(), a);
  BOOST_TEST(a.last.stats.quick);
  BOOST_TEST(s.token_requests() == 2u);           // renewed before use ...
  BOOST_TEST(a.last.stats.requests == 1u);        // ... so placement never saw the old one
  BOOST_TEST(a.last.stats.token_requests == 1u);  // the renewal, as the metrics count it
  const std::string second = *s.token();
  BOOST_TEST(second != first);
  BOOST_TEST(s.token_requests() == 2u);

  // Revoked behind the agent's back: placement answers 401 once; the agent re-authenticates and
  // repeats the request within the same pass.
  BOOST_TEST_REQUIRE(ksenv::revoke(second) == 204);
  BOOST_TEST(placement_status_with(second) == 401);
  expect_ok(a.pass(), a);
  BOOST_TEST(a.last.stats.quick);
  BOOST_TEST(a.last.stats.requests == 2u);  // the GET, refused, and again
  BOOST_TEST((a.last.stats.by_status ==
              std::map<std::pair<std::string, int>, uint64_t>{{{"GET", 401}, 1}, {{"GET", 200}, 1}}));
  BOOST_TEST(a.last.stats.token_requests == 1u);
  BOOST_TEST(s.token_requests() == 3u);
  BOOST_TEST(*s.token() != second);
  expect_pool(root, host);

  // The daemon kept working all along: SIGTERM, exit 0, no error; it fetched a new token
  // when the first neared its end (20 s tokens are renewed 5 s early), not for every request.
  const int st = child.stop();
  const std::string log = ksenv::read_file(daemon_log);
  BOOST_TEST((WIFEXITED(st) && WEXITSTATUS(st) == 0), log);
  BOOST_TEST(!contains(log, " ERROR "), log);
  BOOST_TEST(!contains(log, " WARNING "), log);
  expect_pool(root2, host2);
  size_t posts = 0, passes = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (contains(line, "> POST " + stack().auth_url_http + "/auth/tokens")) ++posts;
    if (contains(line, "pass done")) ++passes;
  }
  const double ran = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST_MESSAGE("daemon: " << passes << " passes, " << posts << " token requests in " << ran << " s");
  BOOST_TEST(passes >= 10u, log);
  BOOST_TEST(posts >= 2u, log);
  BOOST_TEST(posts <= 3u, log);
}

BOOST_AUTO_TEST_CASE(tls_to_placement_verifies_the_certificate) {
  const auto& s = stack();
  const std::string port = s.placement_https.substr(s.placement_https.rfind(':') + 1);
  // valid_interfaces = public: the catalog's https front
  const auto pub = ksenv::password_keys();
  auto tls = [&](const std::map<std::string, std::string>& more) {
    std::map<std::string, std::string> ch{{"valid_interfaces", "public"}};
    ch.insert(more.begin(), more.end());
    return with(pub, ch);
  };

  {  // the right CA
    const std::string host = ksenv::unique("tls-ok");
    const std::string root = ksenv::make_compute_node(host);
    auto r = ksenv::agent(tls({{"cafile", s.ca}}), "report --once -v", host);
    BOOST_TEST_REQUIRE(r.status == 0, r.out);
    BOOST_TEST(contains(r.out, "> GET " + s.placement_https + "/resource_providers"), r.out);  // went over https
    expect_pool(root, host);
  }

  const std::string host = ksenv::unique("tls-refused");
  const std::string root = ksenv::make_compute_node(host);
  for (const std::string& cafile : {s.wrong_ca, std::string()}) {  // another CA; the system store
    BOOST_TEST_CONTEXT("cafile '" << cafile << "'") {
      auto r = ksenv::agent(tls({{"cafile", cafile}}), "report --once", host);
      BOOST_TEST(r.status == 1, r.out);
      BOOST_TEST(contains(r.out, "TLS handshake with " + s.placement_https + ": certificate verify failed"), r.out);
      BOOST_TEST(!contains(r.out, "insecure"), r.out);
      BOOST_TEST(ksenv::pools(root, kRC).empty());  // nothing was sent without verification
    }
  }

  {  // insecure = true: works, and says so
    auto r = ksenv::agent(tls({{"insecure", "true"}}), "report --once", host);
    BOOST_TEST_REQUIRE(r.status == 0, r.out);
    BOOST_TEST(contains(r.out, "WARNING [placement] insecure = true: TLS certificates are NOT verified"), r.out);
    expect_pool(root, host);
  }

  {  // endpoint_override by host name: the certificate's DNS SAN (localhost) is checked too
    const std::string host3 = ksenv::unique("tls-name");
    const std::string root3 = ksenv::make_compute_node(host3);
    auto r = ksenv::agent(tls({{"cafile", s.ca}, {"endpoint_override", "https://localhost:" + port}}), "report --once",
                          host3);
    BOOST_TEST(r.status == 0, r.out);
    expect_pool(root3, host3);
  }
}

BOOST_AUTO_TEST_CASE(tls_to_keystone_verifies_the_certificate) {
  const auto& s = stack();
  const std::string host = ksenv::unique("ks-tls");
  const std::string root = ksenv::make_compute_node(host);
  auto r = ksenv::agent(with(ksenv::appcred_keys(), {{"auth_url", s.auth_url_https}, {"cafile", s.wrong_ca}}),
                        "report --once", host);
  BOOST_TEST(r.status == 1, r.out);
  BOOST_TEST(contains(r.out, "keystone " + s.auth_url_https), r.out);
  BOOST_TEST(contains(r.out, "certificate verify failed"), r.out);
  BOOST_TEST(ksenv::pools(root, kRC).empty());

  r = ksenv::agent(with(ksenv::appcred_keys(), {{"auth_url", s.auth_url_https}, {"cafile", s.ca}}), "report --once",
                   host);
  BOOST_TEST_REQUIRE(r.status == 0, r.out);
  expect_pool(root, host);
}

BOOST_AUTO_TEST_CASE(secrets_never_reach_the_logs) {
  const auto& s = stack();
  const std::string password = s.var("PLACEMENT_PASSWORD");
  const std::string secret = s.var("APPCRED_SECRET");
  auto clean = [&](const std::string& out) {
    BOOST_TEST(!contains(out, password), out);
    BOOST_TEST(!contains(out, secret), out);
    BOOST_TEST(!contains(out, "gAAAAA"), out);  // any fernet token
  };

  // -v: every request is traced, credentials redacted
  for (const auto& keys : {ksenv::password_keys(), ksenv::appcred_keys()}) {
    BOOST_TEST_CONTEXT(keys.at("auth_type")) {
      const std::string host = ksenv::unique("secrets");
      ksenv::make_compute_node(host);
      auto r = ksenv::agent(ksenv::config_file(keys), "report --once -v", host);
      BOOST_TEST(r.status == 0, r.out);
      BOOST_TEST(contains(r.out, "> POST " + s.auth_url_http + "/auth/tokens"), r.out);
      BOOST_TEST(contains(r.out, "> X-Auth-Token: ***"), r.out);
      BOOST_TEST(contains(r.out, "> PUT " + s.placement_http + "/resource_providers/"), r.out);
      clean(r.out);
    }
  }
  {  // refused, verbose
    auto r = ksenv::agent(with(ksenv::password_keys(), {{"password", password + "x"}}), "report --once -v", "nobody");
    BOOST_TEST(r.status == 1, r.out);
    clean(r.out);
  }

  // In process, the exact token the agent used is known: it is nowhere in the log.
  const std::string host = ksenv::unique("secrets-inproc");
  ksenv::make_compute_node(host);
  Agent a(load(ksenv::config_file(ksenv::appcred_keys())), host, Log::Level::debug);
  expect_ok(a.pass(), a);
  auto token = a.session().token();
  BOOST_TEST_REQUIRE(bool(token));
  BOOST_TEST(a.session().token_requests() == 1u);
  const std::string log = a.log_text.str();
  BOOST_TEST(contains(log, "> X-Auth-Token: ***"), log);
  BOOST_TEST(!contains(log, *token), log);
  clean(log);
}
