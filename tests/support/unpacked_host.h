#pragma once
// A committed fixture host, loaded (MemFs) and unpacked into a temp dir
// (RealFs), so a test can ask both the same thing. Removed on destruction.
#include <memory>
#include <string>

#include "fixture.h"
#include "fs.h"
#include "temp_dir.h"

namespace gpu_agent::testing {

class UnpackedHost {
 public:
  // name: tests/data/hosts/<name>.sysfs.txt. Throws std::runtime_error if it cannot be loaded or unpacked.
  explicit UnpackedHost(const std::string& name);

  const std::string& fixture_path() const { return path_; }
  const MemFs& mem() const { return *fixture_.fs; }
  const RealFs& real() const { return *real_; }
  const std::string& root() const { return dir_.path(); }  // the unpacked sysfs root
  const std::string& hostname() const;

 private:
  std::string path_;
  Fixture fixture_;
  TempDir dir_;
  std::unique_ptr<RealFs> real_;
};

}  // namespace gpu_agent::testing
