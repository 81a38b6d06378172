#include "text_file.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace gpu_agent::testing {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error("cannot write " + path);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool regenerate_requested() {
  const char* v = std::getenv("GPU_AGENT_REGENERATE");
  return v && *v && std::strcmp(v, "0") != 0;
}

std::string first_difference(const std::string& expected, const std::string& actual) {
  if (expected == actual) return {};
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (size_t line = 1;; ++line) {
    const bool more_e = static_cast<bool>(std::getline(e, el)), more_a = static_cast<bool>(std::getline(a, al));
    if (!more_e && !more_a) break;
    if (!more_e || !more_a || el != al)
      return std::to_string(line) + " differs:\n  expected: " + (more_e ? el : "<end of file>") +
             "\n  actual:   " + (more_a ? al : "<end of file>");
  }
  return "differs only in line endings or a trailing newline";
}

std::string check_golden(const std::string& path, const std::string& actual) {
  if (regenerate_requested()) {
    write_text_file(path, actual);
    return {};
  }
  if (!file_exists(path)) return path + " does not exist (run with GPU_AGENT_REGENERATE=1 to create it)";
  const std::string diff = first_difference(read_text_file(path), actual);
  return diff.empty() ? diff : path + ":" + diff + "\n(review, then run with GPU_AGENT_REGENERATE=1 to accept)";
}

}  // namespace gpu_agent::testing
