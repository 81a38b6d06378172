#pragma once
// One gpu-agent per state directory: an flock(2) on STATE_DIR/lock, held for
// the life of the process (the kernel drops it when the process ends, however
// it ends, so a stale lock cannot outlive a crash). The file holds the PID of
// the holder, for the message the next one prints.
#include <memory>
#include <string>

#include "result.h"

namespace gpu_agent {

class LockFile {
 public:
  // Creates DIR (one level, mode 0750) when missing, then locks DIR/lock
  // without waiting. Errors: ErrorKind::busy when another process holds it
  // ("... is held by gpu-agent PID N ..."), io when the file cannot be made.
  static Result<std::unique_ptr<LockFile>> acquire(const std::string& dir);
  ~LockFile();
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace gpu_agent
