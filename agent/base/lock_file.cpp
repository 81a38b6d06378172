#include "lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpu_agent {
namespace {

// The PID the holder wrote into the lock file, or "" when unreadable.
std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char c : s)
    if (c < '0' || c > '9') return "";
  return s;
}

}  // namespace

Result<std::unique_ptr<LockFile>> LockFile::acquire(const std::string& dir) {
  const std::string path = dir + "/lock";
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    return os_error("cannot create the state directory " + dir + ": " + std::strerror(errno) +
                        " (set [agent] state_dir to a directory this user may write)",
                    errno);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0)
    return os_error("cannot open the lock file " + path + ": " + std::strerror(errno) +
                        " (set [agent] state_dir to a directory this user may write)",
                    errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return os_error("cannot lock " + path + ": " + std::strerror(err), err);
    }
    const std::string pid = holder_of(fd);
    ::close(fd);
    return make_error(ErrorKind::busy, "another gpu-agent" + (pid.empty() ? std::string() : " (PID " + pid + ")") +
                                           " is using the state directory " + dir + " (it holds " + path +
                                           "); one agent per state directory: stop it first (systemctl stop "
                                           "gpu-agent), or give this one its own [agent] state_dir");
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock is held all the same; only the message for the next one is poorer.
  }
  return std::unique_ptr<LockFile>(new LockFile(path, fd));
}

LockFile::~LockFile() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace gpu_agent
