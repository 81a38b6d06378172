#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace gpu_agent {
namespace {

Error failed(const std::string& what, const std::string& path, int err) {
  return os_error("cannot " + what + " " + path + ": " + std::strerror(err), err);
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The rename is durable once the directory is synced; a failure here is not
// worth failing the write for (the file is complete either way).
void sync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

Result<bool> write_file_atomically(const std::string& path, const std::string& text) {
  return write_file_atomically(path, text, 0);
}

Result<bool> write_file_atomically(const std::string& path, const std::string& text, unsigned mode) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failed("write", tmp, errno);
  if (mode != 0 && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    const int err = errno;
    ::close(fd);
    std::remove(tmp.c_str());
    return failed("set the mode of", tmp, err);
  }
  if (!write_all(fd, text) || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    std::remove(tmp.c_str());
    return failed("write", tmp, err);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return failed("write", tmp, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return os_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(err), err);
  }
  sync_directory_of(path);
  return true;
}

}  // namespace gpu_agent
