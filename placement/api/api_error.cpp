#include "api_error.h"

#include <rapidjson/document.h>

#include <charconv>

#include "json_read.h"

namespace gpu_agent::placement {
namespace {

// An error body is read leniently: a member that is absent or not a string is "".
std::string string_member(const rapidjson::Value& obj, const char* name) {
  auto v = json::member<std::string>(obj, name, "");
  return v ? *v : std::string();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<ApiError> parse_error_body(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto errors = doc.FindMember("errors");
  if (errors == doc.MemberEnd()) {
    // The auth middleware answers 401 itself, in webob's generic shape:
    // {"message": "...<br /><br />", "code": "401 Unauthorized", "title": "Unauthorized"}.
    ApiError e;
    e.title = string_member(doc, "title");
    const std::string message = string_member(doc, "message");
    if (e.title.empty() || message.empty()) return std::nullopt;
    e.detail = body_snippet(message, 1000);
    const std::string status = string_member(doc, "code");
    std::from_chars(status.data(), status.data() + status.size(), e.status);
    return e;
  }
  if (!errors->value.IsArray() || errors->value.Empty()) return std::nullopt;
  const auto& first = errors->value[0];
  if (!first.IsObject()) return std::nullopt;
  ApiError e;
  const auto status = first.FindMember("status");
  if (status != first.MemberEnd() && status->value.IsInt()) e.status = status->value.GetInt();
  e.title = string_member(first, "title");
  e.detail = short_detail(string_member(first, "detail"));
  e.code = string_member(first, "code");
  e.request_id = string_member(first, "request_id");
  e.max_version = string_member(first, "max_version");
  e.min_version = string_member(first, "min_version");
  return e;
}

std::string short_detail(std::string_view detail) {
  const auto split = detail.find("\n\n");
  if (split != std::string_view::npos) detail = detail.substr(split + 2);
  return std::string(trim(detail));
}

std::string body_snippet(std::string_view body, std::size_t max_chars) {
  std::string out;
  bool in_tag = false;
  bool pending_space = false;
  for (char c : body) {
    if (out.size() >= max_chars) break;
    if (c == '<') {
      in_tag = true;
      pending_space = true;
      continue;
    }
    if (in_tag) {
      if (c == '>') in_tag = false;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (is_space(c) || u < 0x20 || u == 0x7F) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += c;
  }
  if (out.size() >= max_chars) out += "...";
  return out;
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::conflict_generation: return "conflict_generation";
    case Outcome::conflict_inuse: return "conflict_inuse";
    case Outcome::duplicate_name: return "duplicate_name";
    case Outcome::conflict: return "conflict";
    case Outcome::not_found: return "not_found";
    case Outcome::bad_request: return "bad_request";
    case Outcome::unauthorized: return "unauthorized";
    case Outcome::forbidden: return "forbidden";
    case Outcome::server_error_retryable: return "server_error_retryable";
    case Outcome::unreachable: return "unreachable";
    case Outcome::unexpected: return "unexpected";
  }
  return "?";
}

Outcome classify(int status, std::string_view error_code) {
  if (status == 0) return Outcome::unreachable;
  if (status >= 200 && status < 300) return Outcome::ok;
  if (status == 409) {
    if (error_code == "placement.concurrent_update") return Outcome::conflict_generation;
    if (error_code == "placement.inventory.inuse" || error_code == "placement.resource_provider.inuse")
      return Outcome::conflict_inuse;
    if (error_code == "placement.duplicate_name") return Outcome::duplicate_name;
    return Outcome::conflict;
  }
  if (status == 401) return Outcome::unauthorized;
  if (status == 403) return Outcome::forbidden;
  if (status == 404) return Outcome::not_found;
  if (status == 408 || status == 429) return Outcome::server_error_retryable;
  if (status >= 400 && status < 500) return Outcome::bad_request;
  if (status >= 500 && status < 600) return Outcome::server_error_retryable;
  return Outcome::unexpected;
}

ErrorKind kind_of(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return ErrorKind::failed;  // not an error; never asked
    case Outcome::conflict_generation:
    case Outcome::conflict_inuse:
    case Outcome::duplicate_name:
    case Outcome::conflict: return ErrorKind::conflict;
    case Outcome::not_found: return ErrorKind::not_found;
    case Outcome::bad_request: return ErrorKind::refused;
    case Outcome::unauthorized:
    case Outcome::forbidden: return ErrorKind::unauthorized;
    case Outcome::server_error_retryable:
    case Outcome::unreachable: return ErrorKind::unreachable;
    case Outcome::unexpected: return ErrorKind::bad_input;
  }
  return ErrorKind::failed;
}

Outcome outcome_of(const Error& e) {
  if (e.kind == ErrorKind::bad_input) return Outcome::unexpected;
  if (e.http_status != 0) return classify(e.http_status, e.api_code);
  return e.kind == ErrorKind::unauthorized ? Outcome::unauthorized : Outcome::unreachable;
}

}  // namespace gpu_agent::placement
