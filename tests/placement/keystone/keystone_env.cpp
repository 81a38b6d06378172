#include "keystone_env.h"

#include "compute_node.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace ksenv {

const char* const kAgentBinary = GPU_AGENT_BINARY;
const char* const kDataDir = GPU_AGENT_TEST_DATA;

namespace {

const std::string kScripts = GPU_AGENT_SCRIPTS_DIR;
Stack g;
std::shared_ptr<gpu_agent::keystone::KeystoneTokens> g_admin;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// The last line of a script's output that starts with http (the URL it printed).
std::string url_in(const std::string& out) {
  std::istringstream in(out);
  std::string line, url;
  while (std::getline(in, line))
    if (line.rfind("http", 0) == 0) url = trim(line);
  if (url.empty()) throw std::runtime_error("no URL in:\n" + out);
  return url;
}

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(s);
  return ntohs(a.sin_port);
}

std::string temp_root() {
  if (const char* t = ::getenv("TMPDIR"); t && *t) return t;
  if (::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return "/tmp";
}

std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> m;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

void check(const Run& r, const std::string& what) {
  if (r.status != 0) throw std::runtime_error(what + " failed (exit " + std::to_string(r.status) + "):\n" + r.out);
}

// Started once for the whole suite. Stopped by the destructor, by the
// constructor when a later step fails, and by the watchdog when this process
// dies without either (killed by CTest's timeout, say).
struct StackFixture {
  int watchdog_fd = -1;
  pid_t watchdog = -1;

  StackFixture() {
    const std::string tmpl_s = temp_root() + "/gpu-agent-keystone-it-XXXXXX";
    std::vector<char> tmpl(tmpl_s.begin(), tmpl_s.end());
    tmpl.push_back('\0');
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed in " + temp_root());
    g.work = tmpl.data();
    g.ks_state = g.work + "/keystone";
    g.pl_state = g.work + "/placement";
    start_watchdog();
    try {
      start();
    } catch (...) {
      stop();
      throw;
    }
  }
  ~StackFixture() { stop(); }

  std::string stop_commands() const {
    std::string s = kScripts + "/tls-proxy.sh stop " + g.work + "/tls-placement; " + kScripts + "/tls-proxy.sh stop " +
                    g.work + "/tls-keystone; " + kScripts + "/keystone-server.sh placement-stop " + g.pl_state + "; " +
                    kScripts + "/keystone-server.sh stop " + g.ks_state + ";";
    if (!::getenv("GPU_AGENT_KEEP_TEST_STATE")) s += " rm -rf " + g.work + ";";
    return s;
  }

  void start_watchdog() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const std::string script = "read -r line; [ \"$line\" = done ] && exit 0; " + stop_commands();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::setsid();  // out of the test's process group: it outlives a group kill
      ::dup2(fds[0], 0);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);  // CTest waits for every holder of its output pipe
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    watchdog_fd = fds[1];
    watchdog = pid;
  }

  void start() {
    const auto t0 = std::chrono::steady_clock::now();
    auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    const std::string certs = g.work + "/certs";
    const int ks_tls_port = free_port();
    const std::string ks_public = "https://127.0.0.1:" + std::to_string(ks_tls_port);
    // keystone and the test certificates in parallel
    Run r = run("(" + kScripts + "/make-test-certs.sh " + certs + " > " + g.work + "/certs.log 2>&1) & c=$!; " +
                "KEYSTONE_TOKEN_EXPIRATION=" + std::to_string(kTokenLifetime) + " KEYSTONE_PUBLIC_URL=" + ks_public +
                " " + kScripts + "/keystone-server.sh start " + g.ks_state + "; k=$?; wait $c || { cat " + g.work +
                "/certs.log; exit 1; }; exit $k");
    check(r, "keystone-server.sh start");
    g.keystone_http = url_in(r.out);
    BOOST_TEST_MESSAGE("keystone up at " << g.keystone_http << " after " << since() << " s");
    g.ca = certs + "/ca.pem";
    g.wrong_ca = certs + "/wrong-ca.pem";

    // placement (keystone auth) and keystone's TLS front in parallel
    r = run("(TLS_CERT_DIR=" + certs + " " + kScripts + "/tls-proxy.sh start " + g.work + "/tls-keystone " +
            g.keystone_http + " " + std::to_string(ks_tls_port) + " > " + g.work + "/tls-keystone.out 2>&1) & t=$!; " +
            kScripts + "/keystone-server.sh placement-start " + g.ks_state + " " + g.pl_state + "; p=$?; wait $t || " +
            "{ cat " + g.work + "/tls-keystone.out; exit 1; }; exit $p");
    check(r, "placement-start / tls-proxy for keystone");
    g.placement_http = url_in(r.out);
    r = run("TLS_CERT_DIR=" + certs + " " + kScripts + "/tls-proxy.sh start " + g.work + "/tls-placement " +
            g.placement_http);
    check(r, "tls-proxy.sh start (placement)");
    g.placement_https = url_in(r.out);

    g.vars = read_env_file(g.ks_state + "/keystone.env");
    g.auth_url_http = g.var("KEYSTONE_INTERNAL_AUTH_URL");
    g.auth_url_https = g.var("OS_AUTH_URL");
    if (g.auth_url_https != ks_public + "/v3") throw std::runtime_error("OS_AUTH_URL is " + g.auth_url_https);

    // The catalog: placement public = the https front (internal stays plain http),
    // and a decoy public endpoint in a second region.
    std::string body;
    if (keystone_api("GET", "/services?type=placement", "", &body) != 200) throw std::runtime_error(body);
    rapidjson::Document d;
    d.Parse(body.c_str());
    const std::string service = d["services"][0]["id"].GetString();
    if (keystone_api("GET", "/endpoints?service_id=" + service + "&interface=public&region_id=RegionOne", "", &body) !=
        200)
      throw std::runtime_error(body);
    d.Parse(body.c_str());
    const std::string ep = d["endpoints"][0]["id"].GetString();
    if (keystone_api("PATCH", "/endpoints/" + ep, "{\"endpoint\":{\"url\":\"" + g.placement_https + "\"}}", &body) !=
        200)
      throw std::runtime_error("PATCH endpoint: " + body);
    if (keystone_api("POST", "/regions", "{\"region\":{\"id\":\"RegionTwo\"}}", &body) != 201)
      throw std::runtime_error("POST region: " + body);
    if (keystone_api("POST", "/endpoints",
                     "{\"endpoint\":{\"service_id\":\"" + service +
                         "\",\"interface\":\"public\",\"region_id\":\"RegionTwo\",\"url\":\"" + kRegionTwoUrl +
                         "\",\"enabled\":true}}",
                     &body) != 201)
      throw std::runtime_error("POST endpoint: " + body);
    BOOST_TEST_MESSAGE("stack up after " << since() << " s: keystone " << g.keystone_http << " (public "
                                         << g.auth_url_https << "), placement " << g.placement_http << " (public "
                                         << g.placement_https << "), work dir " << g.work);
  }

  void stop() {
    g_admin.reset();
    if (g.work.empty()) return;
    const auto t0 = std::chrono::steady_clock::now();
    run(stop_commands());
    if (watchdog_fd >= 0) {
      const char done[] = "done\n";
      [[maybe_unused]] auto n = ::write(watchdog_fd, done, sizeof done - 1);
      ::close(watchdog_fd);
      watchdog_fd = -1;
      int st = 0;
      ::waitpid(watchdog, &st, 0);
    }
    BOOST_TEST_MESSAGE("stack stopped in "
                       << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
  }
};
BOOST_TEST_GLOBAL_FIXTURE(StackFixture);

}  // namespace

std::string Stack::var(const std::string& k) const {
  auto it = vars.find(k);
  if (it == vars.end() || it->second.empty()) throw std::runtime_error("keystone.env has no " + k);
  return it->second;
}

const Stack& stack() { return g; }

Run run(const std::string& cmd) {
  Run r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string unique(const std::string& prefix) {
  static int n = 0;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

std::string new_uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  const uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>((b >> 48) & 0xfff), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

gpu_agent::keystone::Credentials password_creds(const std::string& auth_url) {
  gpu_agent::keystone::Credentials c;
  c.auth_url = auth_url;
  c.method = "password";
  c.username = g.var("PLACEMENT_USERNAME");
  c.password = g.var("PLACEMENT_PASSWORD");
  c.project_name = g.var("SERVICE_PROJECT_NAME");
  c.region_name = g.var("REGION");
  return c;
}

gpu_agent::keystone::Credentials appcred_creds(const std::string& auth_url) {
  gpu_agent::keystone::Credentials c;
  c.auth_url = auth_url;
  c.method = "application_credential";
  c.application_credential_id = g.var("APPCRED_ID");
  c.application_credential_secret = g.var("APPCRED_SECRET");
  c.region_name = g.var("REGION");
  return c;
}

std::unique_ptr<gpu_agent::keystone::Session> session(const gpu_agent::keystone::Credentials& c,
                                                      gpu_agent::http::Options o) {
  auto s = gpu_agent::keystone::Session::create(c, std::move(o));
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(*s);
}

namespace {
gpu_agent::keystone::KeystoneTokens& admin() {
  if (!g_admin) {
    gpu_agent::keystone::Credentials c;
    c.auth_url = g.keystone_http;
    c.method = "password";
    c.username = g.var("ADMIN_USERNAME");
    c.password = g.var("ADMIN_PASSWORD");
    c.project_name = g.var("ADMIN_PROJECT_NAME");
    c.region_name = g.var("REGION");
    g_admin = std::make_shared<gpu_agent::keystone::KeystoneTokens>(session(c), "test admin");
  }
  return *g_admin;
}
}  // namespace

std::string admin_token() {
  auto t = admin().token();
  if (!t) throw std::runtime_error("admin token: " + t.error().message);
  return *t;
}

namespace {
gpu_agent::http::Response keystone_call(const std::string& method, const std::string& path,
                                        gpu_agent::http::Headers headers, const std::string& json) {
  auto c = gpu_agent::http::Client::create(g.keystone_http + "/v3");
  if (!c) throw std::runtime_error(c.error().message);
  headers.push_back({"X-Auth-Token", admin_token()});
  if (!json.empty()) headers.push_back({"Content-Type", "application/json"});
  auto r = (*c)->request(method, path, headers, json);
  if (!r) throw std::runtime_error(method + " " + path + ": " + r.error().message);
  return *r;
}
}  // namespace

int keystone_api(const std::string& method, const std::string& path, const std::string& json, std::string* body) {
  auto r = keystone_call(method, path, {}, json);
  if (body) *body = r.body;
  return r.status;
}

int revoke(const std::string& token) {
  return keystone_call("DELETE", "/auth/tokens", {{"X-Subject-Token", token}}, "").status;
}

std::unique_ptr<gpu_agent::placement::PlacementClient> admin_placement() {
  admin();
  auto c = gpu_agent::placement::PlacementClient::create(g.placement_http, {}, g_admin);
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(*c);
}

std::string make_compute_node(const std::string& name) {
  const std::string uuid = new_uuid();
  gpu_agent::testing::create_compute_node(*admin_placement(), name, uuid);
  return uuid;
}

std::map<std::string, int64_t> pools(const std::string& root_uuid, const std::string& rc) {
  auto c = admin_placement();
  gpu_agent::placement::ProviderQuery q;
  q.in_tree = root_uuid;
  auto list = c->list_providers(q);
  if (!list) throw std::runtime_error(list.error().message);
  std::map<std::string, int64_t> out;
  for (const auto& p : *list) {
    if (p.uuid == root_uuid) continue;
    auto inv = c->get_inventories(p.uuid);
    if (!inv) throw std::runtime_error(inv.error().message);
    auto it = inv->inventories.find(rc);
    out[p.name] = it == inv->inventories.end() ? -1 : it->second.total;
  }
  return out;
}

size_t keystone_token_posts(int status) {
  const std::string needle = "\"POST /v3/auth/tokens HTTP/1.1\" " + std::to_string(status) + " ";
  std::istringstream in(read_file(g.ks_state + "/keystone.log"));
  std::string line;
  size_t n = 0;
  while (std::getline(in, line))
    if (contains(line, needle)) ++n;
  return n;
}

std::string config_file(const std::map<std::string, std::string>& placement, const std::string& agent_extra) {
  const std::string dir = g.work + "/" + unique("agent");
  if (run("mkdir -p " + dir).status != 0) throw std::runtime_error("mkdir " + dir);
  std::string text = "[agent]\nstate_dir = " + dir +
                     "/state\nlibvirt_uri = none\ninterval = 1\njitter = 0\n"
                     "retry_min = 0.2\nretry_max = 1\n" +
                     agent_extra + "\n[placement]\n";
  for (const auto& [k, v] : placement) text += k + " = " + v + "\n";
  write_file(dir + "/gpu-agent.conf", text);
  return dir + "/gpu-agent.conf";
}

std::map<std::string, std::string> password_keys() {
  return {{"auth_type", "password"},
          {"auth_url", g.auth_url_http},
          {"username", g.var("PLACEMENT_USERNAME")},
          {"password", g.var("PLACEMENT_PASSWORD")},
          {"user_domain_name", "Default"},
          {"project_name", g.var("SERVICE_PROJECT_NAME")},
          {"project_domain_name", "Default"},
          {"region_name", g.var("REGION")},
          {"timeout", "10"}};
}

std::map<std::string, std::string> appcred_keys() {
  return {{"auth_type", "v3applicationcredential"},
          {"auth_url", g.auth_url_http},
          {"application_credential_id", g.var("APPCRED_ID")},
          {"application_credential_secret", g.var("APPCRED_SECRET")},
          {"region_name", g.var("REGION")},
          {"timeout", "10"}};
}

std::string a100_fixture() { return std::string(kDataDir) + "/hosts/a100-8x-passthrough.sysfs.txt"; }

Run agent(const std::string& conf, const std::string& cmd, const std::string& host, const std::string& args) {
  return run(std::string(kAgentBinary) + " --config " + conf + " " + cmd + " --fixture " + a100_fixture() +
             " --compute-node-name " + host + (args.empty() ? "" : " " + args));
}

}  // namespace ksenv
