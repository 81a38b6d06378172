#include "keystone.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "json.h"
#include "json_read.h"

namespace gpu_agent::keystone {
namespace {

void domain(JsonWriter& w, const std::string& id, const std::string& name) {
  w.key("domain").begin_object();
  if (!id.empty()) w.key("id").string(id);
  else w.key("name").string(name);
  w.end_object();
}

constexpr auto kRenewBefore = std::chrono::seconds(60);

}  // namespace

std::string v3_url(const std::string& auth_url) {
  std::string u = auth_url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.size() < 3 || u.compare(u.size() - 3, 3, "/v3") != 0) u += "/v3";
  return u;
}

std::string auth_request_body(const Credentials& c) {
  JsonWriter w(JsonStyle::compact);
  w.begin_object();
  w.key("auth").begin_object();
  w.key("identity").begin_object();
  const bool appcred = c.method == "application_credential";
  w.key("methods").begin_array().string(appcred ? "application_credential" : "password").end_array();
  if (appcred) {
    w.key("application_credential").begin_object();
    if (!c.application_credential_id.empty()) w.key("id").string(c.application_credential_id);
    else {
      w.key("name").string(c.application_credential_name);
      w.key("user").begin_object();
      w.key("name").string(c.username);
      domain(w, c.user_domain_id, c.user_domain_name);
      w.end_object();
    }
    w.key("secret").string(c.application_credential_secret);
    w.end_object();
  } else {
    w.key("password").begin_object();
    w.key("user").begin_object();
    w.key("name").string(c.username);
    domain(w, c.user_domain_id, c.user_domain_name);
    w.key("password").string(c.password);
    w.end_object();
    w.end_object();
  }
  w.end_object();  // identity
  if (!appcred) {  // an application credential carries its own project scope
    w.key("scope").begin_object();
    w.key("project").begin_object();
    if (!c.project_id.empty()) w.key("id").string(c.project_id);
    else {
      w.key("name").string(c.project_name);
      domain(w, c.project_domain_id, c.project_domain_name);
    }
    w.end_object();
    w.end_object();
  }
  w.end_object();  // auth
  w.end_object();
  return w.finish();
}

namespace {
// Reads exactly n digits at s[i]; false if any is not a digit.
bool digits(const std::string& s, size_t& i, size_t n, int& out) {
  if (i + n > s.size()) return false;
  out = 0;
  for (size_t k = 0; k < n; ++k, ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool expect(const std::string& s, size_t& i, char c) {
  if (i >= s.size() || s[i] != c) return false;
  ++i;
  return true;
}

bool valid_date(int y, int mo, int d) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
}
}  // namespace

// YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]; no zone means UTC (keystone always
// sends UTC). The fraction is dropped, not rounded; an offset is applied.
Result<std::chrono::system_clock::time_point> parse_iso8601(const std::string& s) {
  const auto bad = [&] { return make_error(ErrorKind::bad_input, "not an ISO 8601 time: '" + s + "'"); };
  size_t i = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, i, 4, y) || !expect(s, i, '-') || !digits(s, i, 2, mo) || !expect(s, i, '-') || !digits(s, i, 2, d) ||
      !expect(s, i, 'T') || !digits(s, i, 2, h) || !expect(s, i, ':') || !digits(s, i, 2, mi) || !expect(s, i, ':') ||
      !digits(s, i, 2, sec))
    return bad();
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return bad();
  }
  long offset_s = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!digits(s, i, 2, oh) || !expect(s, i, ':') || !digits(s, i, 2, om) || oh > 23 || om > 59) return bad();
    offset_s = sign * (oh * 3600L + om * 60L);
  }
  if (i != s.size()) return bad();
  if (!valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60)
    return make_error(ErrorKind::bad_input, "not a valid time: '" + s + "' (ISO 8601 fields out of range)");
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return make_error(ErrorKind::bad_input, "not a valid time: '" + s + "'");
  return std::chrono::system_clock::from_time_t(t - offset_s);
}

namespace {
Error keystone_answered(ErrorKind kind, int status, std::string message) {
  Error e = make_error(kind, std::move(message));
  e.http_status = status;
  return e;
}

// The token's catalog: every endpoint with a URL of every service with a type;
// the rest is skipped (the catalog is a hint, the endpoint is checked when used).
std::vector<CatalogEndpoint> catalog_from(const json::Value& catalog) {
  std::vector<CatalogEndpoint> out;
  for (const auto& svc : catalog.GetArray()) {
    auto type = json::member<std::string>(svc, "type", "");
    auto endpoints = json::member<json::Array>(svc, "endpoints", "");
    if (!type || !endpoints) continue;
    for (const auto& ep : endpoints->value->GetArray()) {
      auto url = json::member<std::string>(ep, "url", "");
      if (!url) continue;
      CatalogEndpoint c;
      c.service_type = *type;
      c.url = *url;
      if (auto i = json::member<std::string>(ep, "interface", "")) c.interface = *i;
      if (auto r = json::member<std::string>(ep, "region_id", "")) c.region = *r;
      else if (auto r2 = json::member<std::string>(ep, "region", "")) c.region = *r2;
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

Result<Token> parse_token_response(int status, const std::string& subject_token, const std::string& body) {
  if (status == 401)
    return keystone_answered(ErrorKind::unauthorized, 401,
                             "keystone refused the credentials (401): check username/password or the application "
                             "credential id/secret in [placement]");
  if (status == 403)
    return keystone_answered(ErrorKind::refused, 403, "keystone answered 403 Forbidden for the token request");
  if (status == 404)
    return keystone_answered(ErrorKind::not_found, 404, "keystone answered 404: is auth_url the identity v3 endpoint?");
  if (status != 201 && status != 200)
    return keystone_answered(status >= 500 ? ErrorKind::unreachable : ErrorKind::refused, status,
                             "keystone answered " + std::to_string(status) + " to the token request");
  if (subject_token.empty())
    return make_error(ErrorKind::bad_input, "keystone's token response has no X-Subject-Token header");
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  const auto token = json::member<json::Object>(d, "token", "keystone's token response");
  if (d.HasParseError() || !token)
    return make_error(ErrorKind::bad_input, "keystone's token response is not the expected JSON ({\"token\": {...}})");
  const json::Value& t = *token->value;
  Token tok;
  tok.id = subject_token;
  auto expires = json::member<std::string>(t, "expires_at", "keystone's token");
  if (!expires) return expires.error();
  auto exp = parse_iso8601(*expires);
  if (!exp) return exp.error();
  tok.expires_at = *exp;
  if (auto issued = json::member<std::string>(t, "issued_at", ""))
    if (auto iss = parse_iso8601(*issued)) tok.issued_at = *iss;
  if (auto catalog = json::member<json::Array>(t, "catalog", "")) tok.catalog = catalog_from(*catalog->value);
  return tok;
}

Result<std::string> select_endpoint(const std::vector<CatalogEndpoint>& catalog, const std::string& service_type,
                                    const std::vector<std::string>& interfaces, const std::string& region) {
  for (const auto& iface : interfaces)
    for (const auto& e : catalog)
      if (e.service_type == service_type && e.interface == iface && (region.empty() || e.region == region))
        return e.url;
  std::string have;
  for (const auto& e : catalog)
    if (e.service_type == service_type) have += " " + e.interface + "@" + (e.region.empty() ? "-" : e.region);
  std::string want;
  for (const auto& i : interfaces) want += (want.empty() ? "" : ",") + i;
  // The catalog lacks what the config asks for: not a network problem, a setting to change.
  return make_error(ErrorKind::bad_config,
                    "the keystone catalog has no " + service_type + " endpoint for interfaces " + want +
                        (region.empty() ? std::string() : " in region " + region) +
                        (have.empty() ? " (no " + service_type + " service at all)" : " (it has:" + have + ")") +
                        "; set [placement] valid_interfaces / region_name, or endpoint_override");
}

Session::Session(Credentials c, std::unique_ptr<http::Client> client)
    : creds_(std::move(c)), client_(std::move(client)) {}

Result<std::unique_ptr<Session>> Session::create(Credentials c, http::Options options) {
  if (c.auth_url.empty())
    return make_error(ErrorKind::bad_config, "[placement] auth_url is required for keystone authentication");
  if (c.method == "password" && (c.username.empty() || c.password.empty()))
    return make_error(ErrorKind::bad_config, "[placement] username and password are required for auth_type = password");
  if (c.method == "password" && c.project_name.empty() && c.project_id.empty())
    return make_error(ErrorKind::bad_config,
                      "[placement] project_name (or project_id) is required for auth_type = password");
  if (c.method == "application_credential" && c.application_credential_secret.empty())
    return make_error(ErrorKind::bad_config,
                      "[placement] application_credential_secret is required for auth_type = v3applicationcredential");
  if (c.method == "application_credential" && c.application_credential_id.empty() &&
      c.application_credential_name.empty())
    return make_error(ErrorKind::bad_config,
                      "[placement] application_credential_id is required for auth_type = v3applicationcredential");
  auto client = http::Client::create(v3_url(c.auth_url), std::move(options));
  if (!client) return client.error();
  return std::unique_ptr<Session>(new Session(std::move(c), std::move(*client)));
}

Result<bool> Session::authenticate() {
  ++token_requests_;
  auto r = client_->request("POST", "/auth/tokens", {{"Content-Type", "application/json"}}, auth_request_body(creds_));
  if (!r) return with_context("keystone " + creds_.auth_url, r.error());
  auto tok = parse_token_response(r->status, r->header("X-Subject-Token"), r->body);
  if (!tok) return with_context("keystone " + v3_url(creds_.auth_url), tok.error());
  token_ = std::move(*tok);
  return true;
}

Result<std::string> Session::token() {
  // A token that lives less than four minutes is renewed a quarter of its
  // lifetime early, not a minute: else every call would fetch a new one.
  using Duration = std::chrono::system_clock::duration;
  const Duration renew_before = token_ ? std::clamp<Duration>((token_->expires_at - token_->issued_at) / 4,
                                                              Duration::zero(), kRenewBefore)
                                       : Duration::zero();
  if (!token_ || token_->expires_at - renew_before <= std::chrono::system_clock::now()) {
    auto ok = authenticate();
    if (!ok) return ok.error();
  }
  return token_->id;
}

Result<std::string> Session::endpoint(const std::string& service_type) {
  if (!token_) {
    auto ok = authenticate();
    if (!ok) return ok.error();
  }
  return select_endpoint(token_->catalog, service_type, creds_.valid_interfaces, creds_.region_name);
}

}  // namespace gpu_agent::keystone
