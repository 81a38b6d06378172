#include "notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace gpu_agent::testing {

NotifySocket::NotifySocket(std::string path, bool abstract) : path_(std::move(path)), abstract_(abstract) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path_.size() + 2 > sizeof a.sun_path) throw std::runtime_error("notify socket path too long: " + path_);
  socklen_t len = sizeof a;
  if (abstract_) {  // a leading NUL byte, no file
    path_.copy(a.sun_path + 1, path_.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path_.size());
  } else {
    path_.copy(a.sun_path, path_.size());
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0)
    throw std::runtime_error("cannot bind a notify socket at " + address() + ": " + std::strerror(errno));
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
  if (!abstract_) ::unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::receive(double seconds) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::ceil(seconds * 1000))) <= 0) return std::nullopt;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<std::string> NotifySocket::drain() {
  std::vector<std::string> out;
  while (auto m = receive(0)) out.push_back(std::move(*m));
  return out;
}

}  // namespace gpu_agent::testing
