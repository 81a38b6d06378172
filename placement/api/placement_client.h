#pragma once
// The Placement API as typed calls over http::Client: token, microversion
// (pinned, renegotiated on 406), one retry after a 401, error bodies turned
// into an Outcome.
// Every call is built by a pure function in requests.h, so a dry run can
// print exactly what a real run would send.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api_error.h"
#include "api_types.h"
#include "http_client.h"
#include "microversion.h"
#include "requests.h"
#include "result.h"
#include "token_source.h"

namespace gpu_agent::placement {

using Done = std::monostate;  // Result<Done>: success without a value

struct Counters {
  std::uint64_t requests = 0;  // HTTP requests sent, negotiation and 401 retries included
  std::uint64_t writes = 0;    // of which POST/PUT/DELETE
  // Every request by (method, HTTP status); status 0 when no answer came
  // (unreachable, timeout, TLS). For the agent's metrics.
  std::map<std::pair<std::string, int>, std::uint64_t> by_status;
  // 409 answers by placement's error code ("placement.concurrent_update",
  // "placement.inventory.inuse", ...; "none" when the body had none).
  std::map<std::string, std::uint64_t> conflicts;
};

// What happened between two readings of the same client's counters.
Counters operator-(const Counters& after, const Counters& before);

class PlacementClient {
 public:
  PlacementClient(std::unique_ptr<http::Client> http, std::shared_ptr<TokenSource> tokens);
  static Result<std::unique_ptr<PlacementClient>> create(std::string_view endpoint, http::Options options,
                                                         std::shared_ptr<TokenSource> tokens);

  // GET / (no token needed). negotiate() picks and caches the microversion
  // from it. The other calls need no negotiation: they send kMaxMicroversion
  // and, when an older Placement answers 406, choose from the range it names
  // and send once more (execute). microversion(): the one in use, once known.
  Result<VersionRange> get_versions();
  Result<Microversion> negotiate();
  std::optional<Microversion> microversion() const { return microversion_; }

  Result<std::vector<Provider>> list_providers(const ProviderQuery& query = {});
  Result<Provider> get_provider(std::string_view uuid);
  Result<Provider> create_provider(std::string_view name, std::string_view uuid,
                                   const std::optional<std::string>& parent_uuid = std::nullopt);
  Result<Done> delete_provider(std::string_view uuid);
  Result<ProviderInventories> get_inventories(std::string_view uuid);
  // Returns the inventories as stored, with the provider's new generation.
  Result<ProviderInventories> put_inventories(std::string_view uuid, std::int64_t generation,
                                              const InventoryMap& inventories);
  Result<ProviderTraits> get_traits(std::string_view uuid);
  Result<ProviderTraits> put_traits(std::string_view uuid, std::int64_t generation,
                                    const std::set<std::string>& traits);
  Result<ProviderUsages> get_usages(std::string_view uuid);
  // true when this call created it (201), false when it existed (204).
  Result<bool> ensure_trait(std::string_view name);
  Result<bool> ensure_resource_class(std::string_view name);
  Result<std::vector<std::string>> list_traits(std::string_view name_filter = {});

  // Any request, with token, microversion and the 401 retry. A non-2xx
  // answer is an Error with the HTTP status and placement's error code;
  // outcome_of(error) says what it means.
  Result<http::Response> execute(const Request& request);

  const Counters& counters() const { return counters_; }
  http::Client& http() { return *http_; }

 private:
  // version: the OpenStack-API-Version to send (none for GET /); offered: where
  // a 406 puts the microversion range Placement named.
  Result<http::Response> send(const Request& request, const std::optional<Microversion>& version,
                              std::optional<VersionRange>* offered);
  Result<Microversion> choose(const VersionRange& offered) const;
  template <typename T>
  Result<T> decoded(const Request& request, Result<T> parsed);
  // execute, then the answer's body through parse (an unparsable one is bad_input).
  template <typename T>
  Result<T> call(const Request& request, Result<T> (*parse)(std::string_view body));

  std::unique_ptr<http::Client> http_;
  std::shared_ptr<TokenSource> tokens_;
  std::optional<Microversion> microversion_;
  Counters counters_;
};

}  // namespace gpu_agent::placement
