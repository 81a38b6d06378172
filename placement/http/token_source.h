#pragma once
// Where the X-Auth-Token comes from. StaticToken covers noauth2 placement
// ("admin") and auth_type=admin_token; a keystone source (password or
// application credential, cached until expiry) implements the same interface.
#include <cstdint>
#include <string>

#include "result.h"

namespace gpu_agent::placement {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The token to send; "" sends no X-Auth-Token. An error (keystone down,
  // bad credentials) fails the call before anything reaches placement.
  virtual Result<std::string> token() = 0;
  // Placement answered 401 to the last token: forget any cached token so
  // the next token() fetches a fresh one.
  virtual void invalidate() = 0;
  // For error messages: "static token", "keystone password auth at URL", ...
  virtual std::string describe() const = 0;
  // Tokens asked for so far (keystone: the first, each renewal before expiry
  // and after a 401, failed attempts included); 0 for a static token. Metrics.
  virtual std::uint64_t token_requests() const { return 0; }
  // Whether invalidate() can bring a different token: after a 401 the
  // request is sent once more only when it can.
  virtual bool refreshable() const { return true; }
};

class StaticToken final : public TokenSource {
 public:
  explicit StaticToken(std::string token) : token_(std::move(token)) {}
  Result<std::string> token() override { return token_; }
  void invalidate() override { ++invalidations_; }  // nothing to refresh
  std::string describe() const override { return token_.empty() ? "no token" : "a static token"; }
  std::uint64_t invalidations() const { return invalidations_; }
  bool refreshable() const override { return false; }

 private:
  std::string token_;
  std::uint64_t invalidations_ = 0;
};

}  // namespace gpu_agent::placement
