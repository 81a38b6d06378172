#pragma once
// A directory under $TMPDIR (else /dev/shm, else /tmp) that is removed with everything in it
// when the object goes away, so unpacked fixture trees never pile up.
#include <string>

namespace gpu_agent::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "gpu-agent-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace gpu_agent::testing
