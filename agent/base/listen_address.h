#pragma once
// [agent] metrics_listen: where the optional metrics listener binds. Loopback
// only (the metrics are not authenticated): "127.0.0.1:PORT", "[::1]:PORT" or
// "localhost:PORT" (= 127.0.0.1). Pure.
#include <cstdint>
#include <string>

#include "result.h"

namespace gpu_agent {

struct ListenAddress {
  std::string host;  // 127.0.0.1 or ::1
  uint16_t port = 0;
};

// Errors: ErrorKind::bad_config, saying which rule the text breaks.
Result<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace gpu_agent
