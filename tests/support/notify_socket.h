#pragma once
// A NOTIFY_SOCKET as systemd has one: a Unix datagram socket bound by the
// test, at a path or (abstract) under a name with a leading NUL byte. The
// test hands address() to sd_notify, in $NOTIFY_SOCKET of this process or of
// a child it starts.
#include <optional>
#include <string>
#include <vector>

namespace gpu_agent::testing {

class NotifySocket {
 public:
  explicit NotifySocket(std::string path, bool abstract = false);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // What $NOTIFY_SOCKET says: the path, or "@name" for an abstract socket.
  std::string address() const { return abstract_ ? "@" + path_ : path_; }
  // The next message, waiting up to `seconds`; nullopt when none came.
  std::optional<std::string> receive(double seconds);
  // Every message waiting now.
  std::vector<std::string> drain();

 private:
  int fd_ = -1;
  std::string path_;
  bool abstract_;
};

}  // namespace gpu_agent::testing
