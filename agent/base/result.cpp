#include "result.h"

namespace gpu_agent {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::failed: return "failed";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::io: return "io";
    case ErrorKind::bad_input: return "bad_input";
    case ErrorKind::bad_config: return "bad_config";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::unreachable: return "unreachable";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::refused: return "refused";
    case ErrorKind::busy: return "busy";
  }
  return "failed";
}

}  // namespace gpu_agent
