#include "file_check.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpu_agent {
namespace {

std::string type_words(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

std::string user_name() {
  const uid_t uid = ::geteuid();
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return "uid " + std::to_string(uid);
}

Error unreadable(const std::string& path, const std::string& what, int err) {
  std::string m = what + " " + path + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM)
    m += " (gpu-agent runs as " + user_name() + "; make " + path + " readable by that user, e.g. chgrp " + user_name() +
         " " + path + " && chmod g+r " + path + ", or run as a user that can read it)";
  return os_error(m, err);
}

}  // namespace

std::string file_type_words(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return type_words(st.st_mode);
}

Result<bool> check_readable_file(const std::string& path, const std::string& what) {
  if (path.empty()) return make_error(ErrorKind::bad_input, what + ": empty path");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return unreadable(path, what, errno);
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorKind::bad_input, what + " " + path + " is " + type_words(st.st_mode) + ", not a file");
  if (::access(path.c_str(), R_OK) != 0) return unreadable(path, what, errno);
  return true;
}

Result<std::string> read_checked_file(const std::string& path, const std::string& what, bool allow_empty) {
  if (auto c = check_readable_file(path, what); !c) return c.error();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return unreadable(path, what, errno);
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return unreadable(path, what, err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (text.empty() && !allow_empty)
    return make_error(ErrorKind::bad_input, what + " " + path + " is empty (a half-written file?)");
  return text;
}

}  // namespace gpu_agent
