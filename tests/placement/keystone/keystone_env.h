#pragma once
// The keystone suite's environment, started once for the whole suite by a
// global fixture and always stopped (also when the test process dies: a
// watchdog process stops the servers when the test's pipe to it closes):
//   keystone (scripts/keystone-server.sh), short token lifetime (kTokenLifetime),
//     its public endpoint behind a TLS front (scripts/tls-proxy.sh), internal on http;
//   placement with auth_strategy = keystone;
//   a TLS front for placement. The catalog says: placement internal = plain http,
//     public = the https front (RegionOne), and a decoy public endpoint in RegionTwo.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "keystone.h"
#include "placement_client.h"

namespace ksenv {

constexpr int kTokenLifetime = 20;  // keystone [token] expiration, seconds
constexpr const char* kRegionTwoUrl = "http://127.0.0.1:9/region-two";

struct Stack {
  std::string work;  // temp dir of this run
  std::string ks_state, pl_state;
  std::string keystone_http;                // http://127.0.0.1:PORT (no /v3)
  std::string auth_url_http;                // http://127.0.0.1:PORT/v3 (internal identity endpoint)
  std::string auth_url_https;               // https://127.0.0.1:PORT/v3 (public identity endpoint, TLS front)
  std::string placement_http;               // placement itself
  std::string placement_https;              // its TLS front
  std::string ca, wrong_ca;                 // certificates
  std::map<std::string, std::string> vars;  // KS_STATE/keystone.env
  std::string var(const std::string& k) const;
};
const Stack& stack();

struct Run {
  int status = -1;  // exit code, -1 if killed
  std::string out;  // stdout and stderr
  double seconds = 0;
};
Run run(const std::string& cmd);  // sh -c
std::string unique(const std::string& prefix);
std::string new_uuid();
bool contains(const std::string& hay, const std::string& needle);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// Keystone credentials as the agent's config would give them.
gpu_agent::keystone::Credentials password_creds(const std::string& auth_url = stack().auth_url_http);
gpu_agent::keystone::Credentials appcred_creds(const std::string& auth_url = stack().auth_url_http);
std::unique_ptr<gpu_agent::keystone::Session> session(const gpu_agent::keystone::Credentials& c,
                                                      gpu_agent::http::Options o = {});

// Acting as the cloud admin (user admin, project admin).
std::string admin_token();
// HTTP status of a keystone API call as admin (path below /v3); the body in *body.
int keystone_api(const std::string& method, const std::string& path, const std::string& json = "",
                 std::string* body = nullptr);
// Revoke a token (DELETE /v3/auth/tokens); returns keystone's status (204).
int revoke(const std::string& token);
std::unique_ptr<gpu_agent::placement::PlacementClient> admin_placement();
// The compute node provider, as nova-compute creates it; returns its uuid.
std::string make_compute_node(const std::string& name);
// The pool providers under a compute node: name -> inventory total of rc.
std::map<std::string, int64_t> pools(const std::string& root_uuid, const std::string& rc);

// POST /v3/auth/tokens lines in keystone's request log answered with `status`.
size_t keystone_token_posts(int status);

// An agent config file; `placement` holds the [placement] keys (nova.conf names).
std::string config_file(const std::map<std::string, std::string>& placement, const std::string& agent_extra = "");
std::map<std::string, std::string> password_keys();  // auth_type = password, internal http auth_url
std::map<std::string, std::string> appcred_keys();   // auth_type = v3applicationcredential

extern const char* const kAgentBinary;
extern const char* const kDataDir;
std::string a100_fixture();
// gpu-agent --config CONF CMD --fixture a100 --compute-node-name HOST ARGS
Run agent(const std::string& conf, const std::string& cmd, const std::string& host, const std::string& args = "");

}  // namespace ksenv
