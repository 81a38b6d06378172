#pragma once
// Keystone v3 authentication for the agent, as nova-compute does it with
// keystoneauth: password or application-credential auth against auth_url,
// the placement endpoint taken from the token's service catalog (by
// valid_interfaces order and region_name) unless endpoint_override is set.
// Tokens are reused until a minute before they expire (a quarter of their
// lifetime before, for tokens that live less than four minutes), and renewed
// once on a 401 from placement (invalidate()).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_client.h"
#include "result.h"
#include "token_source.h"

namespace gpu_agent::keystone {

struct Credentials {
  std::string auth_url;  // https://keystone:5000/v3 (a missing /v3 is added)
  std::string method;    // "password" or "application_credential"
  std::string username, password, user_domain_name = "Default", user_domain_id;
  std::string project_name, project_domain_name = "Default", project_domain_id, project_id;
  std::string application_credential_id, application_credential_secret, application_credential_name;
  std::string region_name;
  std::vector<std::string> valid_interfaces{"internal", "public"};
};

struct CatalogEndpoint {
  std::string service_type, interface, region, url;
};

struct Token {
  std::string id;  // X-Subject-Token: never logged
  std::chrono::system_clock::time_point expires_at;
  std::chrono::system_clock::time_point issued_at;  // epoch when keystone did not say
  std::vector<CatalogEndpoint> catalog;
};

// Pure pieces, tested without a network.
std::string auth_request_body(const Credentials& c);
std::string v3_url(const std::string& auth_url);
Result<Token> parse_token_response(int status, const std::string& subject_token, const std::string& body);
// "2026-11-23T01:12:00.000000Z" -> time point
Result<std::chrono::system_clock::time_point> parse_iso8601(const std::string& s);
// The first endpoint of service_type matching valid_interfaces (in order) and region;
// an ErrorKind::bad_config error when the catalog has none (a setting to change, not a network problem).
Result<std::string> select_endpoint(const std::vector<CatalogEndpoint>& catalog, const std::string& service_type,
                                    const std::vector<std::string>& interfaces, const std::string& region);

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(Credentials c, http::Options options);
  // A valid token, fetching a new one when there is none or it expires within a minute.
  Result<std::string> token();
  // Forget the token (placement answered 401 with it).
  void invalidate() { token_.reset(); }
  // The placement endpoint from the catalog of the current token.
  Result<std::string> endpoint(const std::string& service_type = "placement");
  uint64_t token_requests() const { return token_requests_; }

 private:
  Session(Credentials c, std::unique_ptr<http::Client> client);
  Result<bool> authenticate();
  Credentials creds_;
  std::unique_ptr<http::Client> client_;
  std::optional<Token> token_;
  uint64_t token_requests_ = 0;
};

// The Session as placement's TokenSource. A refused credential is an Error
// with code 401; keystone being unreachable has another code, so the caller
// can tell "fix the config" from "try again later".
class KeystoneTokens final : public placement::TokenSource {
 public:
  explicit KeystoneTokens(std::unique_ptr<Session> s, std::string describe)
      : session_(std::move(s)), describe_(std::move(describe)) {}
  Result<std::string> token() override { return session_->token(); }
  void invalidate() override { session_->invalidate(); }
  std::string describe() const override { return describe_; }
  std::uint64_t token_requests() const override { return session_->token_requests(); }
  Session& session() { return *session_; }

 private:
  std::unique_ptr<Session> session_;
  std::string describe_;
};

}  // namespace gpu_agent::keystone
