#include "compute_id.h"

#include <cctype>

#include "file_check.h"

namespace gpu_agent {

std::optional<std::string> parse_compute_id(std::string_view text) {
  text = text.substr(0, 40);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string s(text);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("urn:uuid:", 0) == 0) s.erase(0, 9);
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
  std::string hex;
  for (char c : s) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex += c;
  }
  if (hex.size() != 32) return std::nullopt;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

ComputeId read_compute_id(const std::string& path) {
  if (path.empty()) return {ComputeId::Kind::absent, "", "[agent] nova_compute_id is empty"};
  auto text = read_checked_file(path, "nova's compute_id", false);
  if (!text) {
    if (text.error().kind == ErrorKind::not_found)
      return {ComputeId::Kind::absent, "",
              "no " + path +
                  " (nova before 2023.1 writes none; another [DEFAULT] state_path: set [agent] nova_compute_id)"};
    return {ComputeId::Kind::unusable, "", text.error().message};
  }
  auto uuid = parse_compute_id(*text);
  if (!uuid) return {ComputeId::Kind::unusable, "", path + " holds no UUID"};
  return {ComputeId::Kind::found, *uuid, ""};
}

}  // namespace gpu_agent
