#pragma once
// What a Placement answer means for the caller: the error body parsed, and
// a pure (status, error code) -> outcome table the reconcile loop acts on.
#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace gpu_agent::placement {

// One entry of {"errors":[{"status","title","detail","code","request_id"}]}.
struct ApiError {
  int status = 0;
  std::string title;
  std::string detail;  // shortened: placement's generic preamble removed
  std::string code;    // "placement.concurrent_update", ...; may be empty
  std::string request_id;
  std::string max_version;  // only on 406 (microversion not acceptable)
  std::string min_version;
};

// The first error of a Placement error body (or of the auth middleware's
// webob-style 401 body); nullopt when the body is neither (HTML from a
// proxy, empty, garbage).
std::optional<ApiError> parse_error_body(std::string_view body);

// Placement prefixes every detail with webob's generic sentence for the
// status ("There was a conflict when trying to complete your request.\n\n");
// keep only what follows, trimmed.
std::string short_detail(std::string_view detail);

// A non-JSON body as one readable line: tags dropped, whitespace collapsed,
// at most max_chars.
std::string body_snippet(std::string_view body, std::size_t max_chars = 200);

enum class Outcome {
  ok,
  conflict_generation,     // 409 placement.concurrent_update: re-read, then retry
  conflict_inuse,          // 409 placement.inventory.inuse / placement.resource_provider.inuse
  duplicate_name,          // 409 placement.duplicate_name
  conflict,                // any other 409 (cannot_delete_parent, over capacity, ...)
  not_found,               // 404
  bad_request,             // other 4xx: the request is wrong, do not repeat it
  unauthorized,            // 401 (after one token refresh)
  forbidden,               // 403
  server_error_retryable,  // 5xx, 408, 429: try again later
  unreachable,             // no HTTP answer at all (connect, TLS, timeout, garbage)
  unexpected,              // an answer the client cannot use (3xx, unparseable 2xx body)
};

std::string_view to_string(Outcome outcome);

// Pure: status 0 means there was no HTTP answer.
Outcome classify(int status, std::string_view error_code);

// The error kind a placement answer of this outcome carries.
ErrorKind kind_of(Outcome outcome);
// What a failed call's Error means for the caller (the client puts the HTTP
// status and placement's error code in it): pure, so a caller branches on the
// returned error itself, never on the client's state.
Outcome outcome_of(const Error& e);

}  // namespace gpu_agent::placement
