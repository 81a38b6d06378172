#pragma once
// One error model for expected failures: a value or an Error that says what
// failed and where (path, URL, step), and what kind of failure it is, so a
// caller branches on the kind and never on the words. Exceptions are for
// start-up and programmer errors only, and are caught in main. Exit codes are
// decided in one place, the CLI (agent/cli/exit_code.h), from the kind.
#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gpu_agent {

enum class ErrorKind {
  failed,        // an expected failure with nothing more specific to say
  not_found,     // a file, directory or provider that is not there (ENOENT, HTTP 404)
  io,            // the OS refused a read or write (os_errno says which)
  bad_input,     // data that does not parse: a sysfs value, a capture, an answer's body
  bad_config,    // the operator's config file, options or settings: fix them (exit 2)
  unauthorized,  // credentials refused (HTTP 401, 403)
  unreachable,   // no usable answer: connect, TLS, timeout, a server error; try again later
  conflict,      // HTTP 409: somebody else changed it; re-read
  refused,       // the server answered with another error status
  busy,          // another gpu-agent holds the state directory's lock (exit 3)
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::failed;
  std::string message;   // says what failed, where, and the fix where there is one
  int os_errno = 0;      // errno where the OS said no, else 0
  int http_status = 0;   // the HTTP status where a server answered, else 0
  std::string api_code;  // the server's own error code ("placement.concurrent_update"), if any
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

[[nodiscard]] inline Error make_error(ErrorKind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}
[[nodiscard]] inline Error make_error(std::string message) { return make_error(ErrorKind::failed, std::move(message)); }
// The OS said no: ENOENT is not_found, anything else io; the errno is kept.
[[nodiscard]] inline Error os_error(std::string message, int err) {
  Error e = make_error(err == ENOENT ? ErrorKind::not_found : ErrorKind::io, std::move(message));
  e.os_errno = err;
  return e;
}
// The same failure, its message prefixed with where it happened ("PREFIX: message").
[[nodiscard]] inline Error with_context(const std::string& prefix, Error e) {
  e.message = prefix + ": " + e.message;
  return e;
}
// The same failure with a new message (kind, errno and status kept).
[[nodiscard]] inline Error reworded(std::string message, Error e) {
  e.message = std::move(message);
  return e;
}

}  // namespace gpu_agent
