#include "report_env.h"

#include <boost/test/unit_test.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "compute_node.h"
#include "fixture.h"
#include "ini.h"

namespace env {

const char* const kAgentBinary = GPU_AGENT_BINARY;
const char* const kDataDir = GPU_AGENT_TEST_DATA;

namespace {

std::string g_url, g_work, g_state;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// Started once for the whole suite, stopped at the end even when tests fail.
struct PlacementFixture {
  PlacementFixture() {
    char tmpl[] = "/tmp/gpu-agent-report-it-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    g_work = tmpl;
    g_state = g_work + "/placement";
    int st = 0;
    const std::string out = run(std::string(PLACEMENT_SERVER_SCRIPT) + " start " + g_state + " 0", &st);
    if (st != 0) throw std::runtime_error("placement-server.sh start failed:\n" + out);
    g_url = trim(out.substr(out.rfind("http://")));
  }
  ~PlacementFixture() {
    run(std::string(PLACEMENT_SERVER_SCRIPT) + " stop " + g_state);
    if (!::getenv("GPU_AGENT_KEEP_TEST_STATE")) run("rm -rf " + g_work);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(PlacementFixture);

const std::string& placement_url() { return g_url; }
const std::string& work_dir() { return g_work; }

std::string new_uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  const uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>((b >> 48) & 0xfff), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string unique(const std::string& prefix) {
  static int n = 0;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

std::unique_ptr<gpu_agent::placement::PlacementClient> client(const std::string& url, const std::string& token) {
  auto c = gpu_agent::placement::PlacementClient::create(url, {},
                                                         std::make_shared<gpu_agent::placement::StaticToken>(token));
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(*c);
}

std::string make_compute_node(const std::string& name, const std::string& url) {
  const std::string uuid = new_uuid();
  gpu_agent::testing::create_compute_node(*client(url), name, uuid);
  return uuid;
}

std::string allocate(const std::string& provider, const std::string& rc, int n) {
  const std::string consumer = new_uuid();
  const std::string body = "{\"allocations\":{\"" + provider + "\":{\"resources\":{\"" + rc +
                           "\":" + std::to_string(n) +
                           "}}},\"project_id\":\"p\",\"user_id\":\"u\",\"consumer_generation\":null,"
                           "\"consumer_type\":\"INSTANCE\"}";
  const int st = http_status("PUT", "/allocations/" + consumer, body);
  if (st != 204)
    throw std::runtime_error("allocation of " + std::to_string(n) + " " + rc + " answered " + std::to_string(st));
  return consumer;
}

int http_status(const std::string& method, const std::string& path, const std::string& body) {
  auto c = client();
  auto r = c->execute({method, path, body});
  return r ? r->status : r.error().http_status;
}

std::string fixture(const std::string& name, const std::vector<std::string>& unbind) {
  const std::string src = std::string(kDataDir) + "/hosts/" + name + ".sysfs.txt";
  if (unbind.empty()) return src;
  auto fx = gpu_agent::load_fixture_file(src);
  if (!fx) throw std::runtime_error(fx.error().message);
  for (const auto& a : unbind) {
    auto canon = fx->fs->resolve("bus/pci/devices/" + a);
    if (!canon || !fx->fs->remove(*canon + "/driver")) throw std::runtime_error("cannot unbind " + a);
  }
  const std::string out = work_dir() + "/" + unique(name) + ".sysfs.txt";
  std::ofstream(out) << gpu_agent::format_fixture(*fx->fs, fx->meta);
  return out;
}

std::string config_file(const std::string& url, const std::string& agent_extra, const std::string& more) {
  const std::string dir = work_dir() + "/" + unique("agent");
  run("mkdir -p " + dir);
  const std::string path = dir + "/gpu-agent.conf";
  std::ofstream(path) << "[agent]\nstate_dir = " << dir << "/state\nlibvirt_uri = none\ninterval = 1\njitter = 0\n"
                      << "retry_min = 0.2\nretry_max = 1\n"
                      // hermetic: never this machine's nova (a test names its own file)
                      << (agent_extra.find("nova_compute_id") == std::string::npos
                              ? "nova_compute_id = " + dir + "/nova/compute_id\n"
                              : std::string())
                      << agent_extra
                      << "\n[placement]\nauth_type = admin_token\ntoken = admin\nendpoint_override = " << url
                      << "\ntimeout = 5\n"
                      << more;
  return path;
}

gpu_agent::AgentConfig config(const std::string& url, const std::string& agent_extra, const std::string& more) {
  auto c = gpu_agent::load_agent_config(config_file(url, agent_extra, more));
  if (!c) throw std::runtime_error(c.error().message);
  return *c;
}

std::set<std::string> Tree::traits(const std::string& uuid) const {
  auto t = client()->get_traits(uuid);
  if (!t) throw std::runtime_error(t.error().message);
  return t->traits;
}

gpu_agent::placement::InventoryMap Tree::inventory(const std::string& uuid) const {
  auto i = client()->get_inventories(uuid);
  if (!i) throw std::runtime_error(i.error().message);
  return i->inventories;
}

std::vector<gpu_agent::placement::Provider> Tree::children() const {
  std::vector<gpu_agent::placement::Provider> out;
  for (const auto& [u, p] : providers)
    if (u != root) out.push_back(p);
  return out;
}

Tree read_tree(const std::string& root_uuid) {
  gpu_agent::placement::ProviderQuery q;
  q.in_tree = root_uuid;
  auto list = client()->list_providers(q);
  if (!list) throw std::runtime_error(list.error().message);
  Tree t;
  t.root = root_uuid;
  for (const auto& p : *list) t.providers[p.uuid] = p;
  return t;
}

}  // namespace env
