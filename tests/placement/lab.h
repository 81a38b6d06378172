#pragma once
// The integration suite's shared environment: a real Placement started once
// by the global fixture (scripts/placement-server.sh), and small helpers.
#include <chrono>
#include <memory>
#include <string>

#include "placement_client.h"

namespace lab {

struct ScriptResult {
  int status = -1;     // exit status of the script
  std::string output;  // stdout and stderr
};
// [ENV=value ...] scripts/placement-server.sh ARGS
ScriptResult placement_script(const std::string& args, const std::string& env = {});

const std::string& placement_url();  // http://127.0.0.1:PORT
const std::string& state_dir();
std::string placement_log();

std::string new_uuid();
// A name no other test (or earlier run on the same DB) uses.
std::string unique_name(const std::string& prefix);

std::unique_ptr<gpu_agent::placement::PlacementClient> client(const std::string& token = "admin",
                                                              gpu_agent::http::Options options = {},
                                                              const std::string& url = placement_url());

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Counts how often the client asks for and drops the token.
class CountingToken final : public gpu_agent::placement::TokenSource {
 public:
  explicit CountingToken(std::string token) : token_(std::move(token)) {}
  gpu_agent::Result<std::string> token() override {
    ++fetched;
    return token_;
  }
  void invalidate() override { ++invalidated; }
  std::string describe() const override { return "test token"; }
  int fetched = 0;
  int invalidated = 0;

 private:
  std::string token_;
};

}  // namespace lab
