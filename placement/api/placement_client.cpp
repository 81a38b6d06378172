#include "placement_client.h"

#include "responses.h"

namespace gpu_agent::placement {

Counters operator-(const Counters& after, const Counters& before) {
  Counters d;
  d.requests = after.requests - before.requests;
  d.writes = after.writes - before.writes;
  for (const auto& [k, n] : after.by_status) {
    auto b = before.by_status.find(k);
    const std::uint64_t was = b == before.by_status.end() ? 0 : b->second;
    if (n > was) d.by_status[k] = n - was;
  }
  for (const auto& [k, n] : after.conflicts) {
    auto b = before.conflicts.find(k);
    const std::uint64_t was = b == before.conflicts.end() ? 0 : b->second;
    if (n > was) d.conflicts[k] = n - was;
  }
  return d;
}

PlacementClient::PlacementClient(std::unique_ptr<http::Client> http, std::shared_ptr<TokenSource> tokens)
    : http_(std::move(http)), tokens_(std::move(tokens)) {}

Result<std::unique_ptr<PlacementClient>> PlacementClient::create(std::string_view endpoint, http::Options options,
                                                                 std::shared_ptr<TokenSource> tokens) {
  if (!tokens) return make_error("placement client needs a token source");
  auto http = http::Client::create(endpoint, std::move(options));
  if (!http) return make_error("placement endpoint: " + http.error().message);
  return std::make_unique<PlacementClient>(std::move(*http), std::move(tokens));
}

Result<http::Response> PlacementClient::send(const Request& request, const std::optional<Microversion>& version,
                                             std::optional<VersionRange>* offered) {
  const std::string where = request.method + " " + http_->url().full(request.path);
  // GET / is public in placement; everything else needs a token.
  const bool needs_token = request.path != "/";
  const bool write = request.method != "GET" && request.method != "HEAD";

  std::string token_kind = tokens_->describe();
  for (int attempt = 0;; ++attempt) {
    http::Headers headers{{"Accept", "application/json"}};
    if (version) headers.push_back({"OpenStack-API-Version", "placement " + version->str()});
    if (!request.body.empty()) headers.push_back({"Content-Type", "application/json"});
    if (needs_token) {
      auto token = tokens_->token();
      if (!token) {
        // A refused credential (401) will not get better by retrying; an
        // unreachable or failing keystone will. No placement status: the
        // outcome is the token's (outcome_of).
        return make_error(token.error().kind == ErrorKind::unauthorized ? ErrorKind::unauthorized
                                                                        : ErrorKind::unreachable,
                          where + ": cannot get a token: " + token.error().message);
      }
      token_kind = tokens_->describe();
      if (!token->empty()) headers.push_back({"X-Auth-Token", *token});
    }

    ++counters_.requests;
    if (write) ++counters_.writes;
    auto res = http_->request(request.method, request.path, headers, request.body);
    ++counters_.by_status[{request.method, res ? res->status : 0}];
    if (!res) return res.error();  // unreachable; already names the step and the URL
    if (res->status == 401 && needs_token && attempt == 0 && tokens_->refreshable()) {
      // Expired or revoked: a fresh token may fix it. Placement has not acted
      // on a request it did not authenticate, so sending it again is safe.
      tokens_->invalidate();
      continue;
    }

    if (res->status >= 200 && res->status < 300) return res;

    const std::optional<ApiError> api = parse_error_body(res->body);
    const std::string code = api ? api->code : std::string();
    if (res->status == 409) ++counters_.conflicts[code.empty() ? "none" : code];
    if (res->status == 406 && offered && api) {
      // Placement's microversion middleware names the range it serves.
      auto lo = parse_microversion(api->min_version), hi = parse_microversion(api->max_version);
      if (lo && hi) *offered = VersionRange{*lo, *hi};
    }
    Error failed = make_error(kind_of(classify(res->status, code)), "");
    failed.http_status = res->status;
    failed.api_code = code;

    std::string msg = where + ": " + std::to_string(res->status) + " " + res->reason;
    if (res->status == 401) {
      // The middleware's text is boilerplate; say what was sent and what to check.
      const std::string tried = attempt > 0 ? ", refreshed once" : ", which cannot be refreshed";
      return reworded("authentication failed: " + msg + " (sent " + token_kind + tried +
                          "; check the [placement] auth settings)",
                      failed);
    }
    if (api) {
      if (!code.empty() && code != "placement.undefined_code") msg += " (" + code + ")";
      if (!api->detail.empty()) msg += ": " + api->detail;
      if (!api->request_id.empty()) msg += " [" + api->request_id + "]";
    } else if (!res->body.empty()) {
      msg += ": " + body_snippet(res->body);
    }
    if (res->status == 403) {
      msg += " (the token's user lacks a role placement requires, normally admin)";
    }
    return reworded(msg, failed);
  }
}

// No GET / first (nova's report client never sends one either): every request
// carries the microversion in use, kMaxMicroversion until Placement says
// otherwise. An older Placement answers 406 before acting on the request, with
// the range it serves in the body (or GET / tells it): the client chooses from
// that range and sends the request once more, which is safe even for a POST.
Result<http::Response> PlacementClient::execute(const Request& request) {
  if (request.path == "/") return send(request, std::nullopt, nullptr);
  const Microversion tried = microversion_.value_or(kMaxMicroversion);
  std::optional<VersionRange> offered;
  auto res = send(request, tried, &offered);
  if (res || res.error().http_status != 406) {
    if (res || res.error().http_status != 0) microversion_ = tried;  // Placement answered at this version
    return res;
  }
  if (!offered) {
    auto range = get_versions();
    if (!range) return res;  // keep the 406: it says what was refused
    offered = *range;
  }
  auto chosen = choose(*offered);
  if (!chosen) return chosen.error();
  if (*chosen == tried) return res;  // refused for another reason than the version
  microversion_ = *chosen;
  return send(request, *chosen, nullptr);
}

Result<Microversion> PlacementClient::choose(const VersionRange& offered) const {
  auto chosen = choose_microversion(offered);
  if (!chosen)
    return make_error(ErrorKind::bad_input,
                      "placement at " + http_->url().origin() + http_->url().base_path + ": " + chosen.error().message);
  return chosen;
}

template <typename T>
Result<T> PlacementClient::decoded(const Request& request, Result<T> parsed) {
  if (parsed) return parsed;
  return make_error(ErrorKind::bad_input, request.method + " " + http_->url().full(request.path) +
                                              ": unexpected response: " + parsed.error().message);
}

template <typename T>
Result<T> PlacementClient::call(const Request& request, Result<T> (*parse)(std::string_view body)) {
  auto res = execute(request);
  if (!res) return res.error();
  return decoded(request, parse(res->body));
}

Result<VersionRange> PlacementClient::get_versions() {
  const Request req = requests::get_versions();
  auto res = send(req, std::nullopt, nullptr);
  if (!res) return res.error();
  return decoded(req, parse::versions(res->body));
}

Result<Microversion> PlacementClient::negotiate() {
  if (microversion_) return *microversion_;
  auto range = get_versions();
  if (!range) return range.error();
  auto chosen = choose(*range);
  if (!chosen) return chosen.error();
  microversion_ = *chosen;
  return *chosen;
}

Result<std::vector<Provider>> PlacementClient::list_providers(const ProviderQuery& query) {
  return call(requests::list_providers(query), parse::providers);
}

Result<Provider> PlacementClient::get_provider(std::string_view uuid) {
  return call(requests::get_provider(uuid), parse::provider);
}

Result<Provider> PlacementClient::create_provider(std::string_view name, std::string_view uuid,
                                                  const std::optional<std::string>& parent_uuid) {
  // >= 1.20 answers 200 with the provider (kMinMicroversion guarantees it).
  return call(requests::create_provider(name, uuid, parent_uuid), parse::provider);
}

Result<Done> PlacementClient::delete_provider(std::string_view uuid) {
  auto res = execute(requests::delete_provider(uuid));
  if (!res) return res.error();
  return Done{};
}

Result<ProviderInventories> PlacementClient::get_inventories(std::string_view uuid) {
  return call(requests::get_inventories(uuid), parse::inventories);
}

Result<ProviderInventories> PlacementClient::put_inventories(std::string_view uuid, std::int64_t generation,
                                                             const InventoryMap& inventories) {
  return call(requests::put_inventories(uuid, generation, inventories), parse::inventories);
}

Result<ProviderTraits> PlacementClient::get_traits(std::string_view uuid) {
  return call(requests::get_traits(uuid), parse::provider_traits);
}

Result<ProviderTraits> PlacementClient::put_traits(std::string_view uuid, std::int64_t generation,
                                                   const std::set<std::string>& traits) {
  return call(requests::put_traits(uuid, generation, traits), parse::provider_traits);
}

Result<ProviderUsages> PlacementClient::get_usages(std::string_view uuid) {
  return call(requests::get_usages(uuid), parse::usages);
}

Result<bool> PlacementClient::ensure_trait(std::string_view name) {
  auto res = execute(requests::ensure_trait(name));
  if (!res) return res.error();
  return res->status == 201;
}

Result<bool> PlacementClient::ensure_resource_class(std::string_view name) {
  auto res = execute(requests::ensure_resource_class(name));
  if (!res) return res.error();
  return res->status == 201;
}

Result<std::vector<std::string>> PlacementClient::list_traits(std::string_view name_filter) {
  return call(requests::list_traits(name_filter), parse::trait_names);
}

}  // namespace gpu_agent::placement
