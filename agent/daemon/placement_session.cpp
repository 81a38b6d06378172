#include "placement_session.h"

#include <chrono>

#include "file_check.h"
#include "keystone.h"
#include "parse.h"

namespace gpu_agent {
namespace {

http::Options http_options(const PlacementSettings& p, Log* log, std::function<bool()> cancelled) {
  http::Options opts;
  opts.cancelled = std::move(cancelled);
  opts.connect_timeout = std::chrono::milliseconds(static_cast<int64_t>(p.timeout * 1000));
  opts.io_timeout = opts.connect_timeout;
  opts.cafile = p.cafile;
  opts.insecure = p.insecure;
  if (!log) return opts;
  if (p.insecure) log->warning("[placement] insecure = true: TLS certificates are NOT verified");
  // -v: every request to keystone and placement (credentials redacted by the client)
  if (log->enabled(Log::Level::debug)) opts.trace = [log](std::string_view line) { log->debug(std::string(line)); };
  return opts;
}

keystone::Credentials credentials_of(const PlacementSettings& p, const std::string& auth) {
  keystone::Credentials c;
  c.auth_url = p.auth_url;
  c.method = (auth == "password" || auth == "v3password") ? "password" : "application_credential";
  c.username = p.username;
  c.password = p.password;
  c.user_domain_name = p.user_domain_name;
  c.user_domain_id = p.user_domain_id;
  c.project_name = p.project_name;
  c.project_domain_name = p.project_domain_name;
  c.project_domain_id = p.project_domain_id;
  c.project_id = p.project_id;
  c.application_credential_id = p.application_credential_id;
  c.application_credential_secret = p.application_credential_secret;
  c.application_credential_name = p.application_credential_name;
  c.region_name = p.region_name;
  c.valid_interfaces = p.valid_interfaces;
  return c;
}

// Keystone tokens, and the endpoint from its catalog unless one is given.
Result<bool> keystone_session(const PlacementSettings& p, const std::string& auth, const http::Options& opts,
                              PlacementSession& out, std::string& endpoint) {
  const keystone::Credentials c = credentials_of(p, auth);
  auto session = keystone::Session::create(c, opts);
  if (!session) return with_context(p.source, session.error());
  const std::string who = c.method == "password" ? "keystone password auth as " + c.username
                                                 : "keystone application credential " + c.application_credential_id;
  auto ks = std::make_shared<keystone::KeystoneTokens>(std::move(*session), who + " at " + c.auth_url);
  if (endpoint.empty()) {
    auto ep = ks->session().endpoint("placement");
    if (!ep && ep.error().kind == ErrorKind::bad_config) return with_context(p.source, ep.error());
    if (!ep) return ep.error();
    endpoint = *ep;
  }
  out.tokens = ks;
  return true;
}

// auth_type as the settings mean it: admin_token when only a token is given.
std::string auth_of(const PlacementSettings& p) {
  if (p.auth_type.empty() && !p.token.empty()) return "admin_token";
  return p.auth_type;
}

bool is_static(const std::string& auth) { return auth == "admin_token" || auth == "noauth" || auth == "none"; }
bool is_keystone(const std::string& auth) {
  return auth == "password" || auth == "v3password" || auth == "v3applicationcredential" ||
         auth == "applicationcredential";
}

}  // namespace

Result<bool> check_placement_settings(const PlacementSettings& p) {
  const std::string auth = auth_of(p);
  if (!p.cafile.empty())
    if (auto c = check_readable_file(p.cafile, p.source + ": cafile"); !c)
      return make_error(ErrorKind::bad_config, c.error().message);
  const http::Options opts = http_options(p, nullptr, {});
  if (is_static(auth)) {
    if (p.endpoint_override.empty())
      return make_error(ErrorKind::bad_config,
                        p.source + ": auth_type = " + auth + " needs endpoint_override = http(s)://HOST:PORT");
    if (auth == "admin_token" && p.token.empty())
      return make_error(ErrorKind::bad_config, p.source + ": auth_type = admin_token needs token = ...");
  } else if (is_keystone(auth)) {
    auto session = keystone::Session::create(credentials_of(p, auth), opts);  // checks; sends nothing
    if (!session) return make_error(ErrorKind::bad_config, with_context(p.source, session.error()).message);
  } else if (auth.empty()) {
    return make_error(ErrorKind::bad_config,
                      p.source +
                          ": auth_type is not set: use password, v3applicationcredential, or admin_token "
                          "with endpoint_override (or --nova-config /etc/nova/nova.conf to reuse nova's)");
  } else {
    return make_error(ErrorKind::bad_config, p.source + ": auth_type = " + printable(auth) +
                                                 " is not known: use password, v3applicationcredential, "
                                                 "admin_token or noauth");
  }
  if (!p.endpoint_override.empty())
    if (auto c = http::Client::create(p.endpoint_override, opts); !c)
      return make_error(ErrorKind::bad_config, p.source + ": endpoint_override: " + c.error().message);
  return true;
}

Result<PlacementSession> open_placement(const PlacementSettings& p, Log& log, std::function<bool()> cancelled) {
  if (auto ok = check_placement_settings(p); !ok) return ok.error();
  const http::Options opts = http_options(p, &log, std::move(cancelled));
  PlacementSession out;
  std::string endpoint = p.endpoint_override;
  const std::string auth = auth_of(p);
  if (is_static(auth)) {
    out.tokens = std::make_shared<placement::StaticToken>(p.token);
  } else if (auto ks = keystone_session(p, auth, opts, out, endpoint); !ks) {
    return ks.error();
  }
  auto client = placement::PlacementClient::create(endpoint, opts, out.tokens);
  if (!client) return make_error(ErrorKind::bad_config, client.error().message);
  out.client = std::move(*client);
  return out;
}

Result<PlacementSettings> effective_placement(const AgentConfig& cfg, const std::optional<std::string>& nova_config) {
  std::string path = nova_config.value_or(cfg.nova_config);
  if (path.empty()) return cfg.placement;
  auto ini = load_ini(path);
  if (!ini) return make_error(ErrorKind::bad_config, "cannot use nova's config: " + ini.error().message);
  auto p = placement_from_ini(*ini, false);
  if (!p) return make_error(ErrorKind::bad_config, p.error().message);
  if (p->auth_type.empty() && p->endpoint_override.empty())
    return make_error(ErrorKind::bad_config, path + " has no [placement] section with auth_type; nothing to reuse");
  return p;
}

}  // namespace gpu_agent
