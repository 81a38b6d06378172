#include "fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>

namespace gpu_agent {
namespace {

// sysfs attributes are at most a page; 1 MiB bounds a wrong path (a huge file) cheaply.
constexpr size_t kMaxFileSize = 1 << 20;
constexpr int kMaxLinkHops = 40;  // the kernel's limit, so fixtures fail where a host would

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A real file the OS refused: say who asked, so the fix is clear (the
// packaged unit runs as its own user, not root).
Error fs_error(const std::string& what, const std::string& shown, int err) {
  std::string m = what + " " + shown + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM) {
    const uid_t uid = ::geteuid();
    passwd entry{};
    passwd* pw = nullptr;
    char buf[1024];  // getpwuid_r: reads may run on several threads (Fs::concurrent_reads)
    const bool named = ::getpwuid_r(uid, &entry, buf, sizeof buf, &pw) == 0 && pw;
    const std::string who = named ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
    m += " (gpu-agent runs as " + who + "; give " + who + " read access to " + shown +
         ", e.g. with a udev rule or a group, or run the agent as a user that can read it)";
  }
  return os_error(m, err);
}

}  // namespace

std::string join_path(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b.front() == '/' ? b.substr(1) : b;
  return out;
}

std::string_view base_name(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t pos = path.rfind('/');
  return pos == std::string_view::npos ? path : path.substr(pos + 1);
}

std::string_view dir_name(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t pos = path.rfind('/');
  return pos == std::string_view::npos ? std::string_view{} : path.substr(0, pos);
}

// ---------------------------------------------------------------- RealFs

RealFs::RealFs(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  top_ = root_;
}

RealFs::RealFs(std::string root, std::string top, int dfd) : root_(std::move(root)), top_(std::move(top)), dfd_(dfd) {}

RealFs::~RealFs() {
  if (dfd_ >= 0) ::close(dfd_);
}

int RealFs::at_fd() const { return dfd_ >= 0 ? dfd_ : AT_FDCWD; }

std::string RealFs::at_name(std::string_view path) const {
  if (dfd_ < 0) return full(path);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path.empty() ? std::string(".") : std::string(path);
}

namespace {

// A view that forwards to the Fs it came from with DIR/ in front of each path:
// MemFs's, and RealFs's for a directory it could not open.
class SubFs final : public Fs {
 public:
  SubFs(const Fs& base, std::string_view dir) : base_(base), dir_(dir) {}
  Result<std::string> read_file(std::string_view p) const override { return base_.read_file(join_path(dir_, p)); }
  Result<std::string> read_link(std::string_view p) const override { return base_.read_link(join_path(dir_, p)); }
  Result<std::vector<std::string>> list_dir(std::string_view p) const override {
    return base_.list_dir(join_path(dir_, p));
  }
  Result<std::string> resolve(std::string_view p) const override { return base_.resolve(join_path(dir_, p)); }
  bool exists(std::string_view p) const override { return base_.exists(join_path(dir_, p)); }
  bool is_link(std::string_view p) const override { return base_.is_link(join_path(dir_, p)); }
  std::string display(std::string_view p) const override { return base_.display(join_path(dir_, p)); }
  std::vector<Result<std::string>> read_under(std::string_view d, const std::vector<std::string>& names,
                                              std::string_view leaf) const override {
    return base_.read_under(join_path(dir_, d), names, leaf);
  }
  Result<Listing> list_read_under(std::string_view d, std::string_view leaf) const override {
    return base_.list_read_under(join_path(dir_, d), leaf);
  }
  bool concurrent_reads() const override { return base_.concurrent_reads(); }

 private:
  const Fs& base_;
  std::string dir_;
};

}  // namespace

std::unique_ptr<const Fs> Fs::at(std::string_view dir) const { return std::make_unique<SubFs>(*this, dir); }

std::unique_ptr<const Fs> RealFs::at(std::string_view dir) const {
  const int fd = ::openat(at_fd(), at_name(dir).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::make_unique<SubFs>(*this, dir);
  return std::unique_ptr<const Fs>(new RealFs(full(dir), top_, fd));
}

std::string RealFs::full(std::string_view path) const {
  if (path.empty()) return root_;
  return join_path(root_, path);
}

std::string RealFs::display(std::string_view path) const { return full(path); }

std::vector<Result<std::string>> Fs::read_under(std::string_view dir, const std::vector<std::string>& names,
                                                std::string_view leaf) const {
  std::vector<Result<std::string>> out;
  out.reserve(names.size());
  std::string p;
  for (const auto& name : names) {
    p.assign(dir).append("/").append(name).append("/").append(leaf);
    out.push_back(read_file(p));
  }
  return out;
}

Result<Fs::Listing> Fs::list_read_under(std::string_view dir, std::string_view leaf) const {
  auto names = list_dir(dir);
  if (!names) return names.error();
  Listing out{std::move(*names), {}};
  out.leaves = read_under(dir, out.names, leaf);
  return out;
}

// DIR/NAME/LEAF for each name, opened relative to dfd (DIR, shown as d).
std::vector<Result<std::string>> RealFs::read_at(int dfd, const std::string& d, const std::vector<std::string>& names,
                                                 std::string_view leaf) {
  std::vector<Result<std::string>> out;
  out.reserve(names.size());
  std::string rel;
  for (const auto& name : names) {
    rel.assign(name).append("/").append(leaf);
    const int fd = ::openat(dfd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    out.push_back(read_open(fd, fd < 0 ? errno : 0, d, rel));
  }
  return out;
}

std::vector<Result<std::string>> RealFs::read_under(std::string_view dir, const std::vector<std::string>& names,
                                                    std::string_view leaf) const {
  const std::string d = full(dir);
  const int dfd = ::openat(at_fd(), at_name(dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Fs::read_under(dir, names, leaf);  // each read then names its own error
  auto out = read_at(dfd, d, names, leaf);
  ::close(dfd);
  return out;
}

Result<Fs::Listing> RealFs::list_read_under(std::string_view dir, std::string_view leaf) const {
  const std::string d = full(dir);
  const int dfd = ::openat(at_fd(), at_name(dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fs_error("cannot list", d, errno);
  auto names = list_fd(dfd, d);
  if (!names) {
    ::close(dfd);
    return names.error();
  }
  Listing out{std::move(*names), {}};
  out.leaves = read_at(dfd, d, out.names, leaf);
  ::close(dfd);
  return out;
}

Result<std::string> RealFs::read_file(std::string_view path) const {
  const int fd = ::openat(at_fd(), at_name(path).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  return read_open(fd, fd < 0 ? errno : 0, root_, path);
}

// The contents of fd (closed here), opened from DIR/REL (REL may be empty); fd < 0:
// open failed with err. The path is put together only for a message.
Result<std::string> RealFs::read_open(int fd, int open_errno, std::string_view dir, std::string_view rel) {
  auto shown = [&] { return join_path(dir, rel); };
  if (fd < 0) return fs_error("cannot open", shown(), open_errno);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fs_error("cannot read", shown(), err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxFileSize) {
      ::close(fd);
      return os_error("cannot read " + shown() + ": larger than 1 MiB, not a sysfs attribute", EFBIG);
    }
    // A short read is the end: a sysfs attribute comes whole in one read (its
    // show() fills at most a page) and a regular file (an unpacked fixture)
    // only reads short at its end. Saves a read per file, a fifth of the
    // system calls of an inventory (5632 available_instances on 8 A40s).
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  ::close(fd);
  return out;
}

Result<std::string> RealFs::read_link(std::string_view path) const {
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(at_fd(), at_name(path).c_str(), buf, sizeof buf);
  if (n < 0) return fs_error("cannot read link", full(path), errno);
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::vector<std::string>> RealFs::list_dir(std::string_view path) const {
  const std::string p = full(path);
  const int fd = ::openat(at_fd(), at_name(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fs_error("cannot list", p, errno);
  auto out = list_fd(fd, p);
  ::close(fd);
  return out;
}

// The names in the directory fd (shown as p), sorted. getdents64 straight
// into a buffer on the stack: opendir() would add an fstat and a heap buffer
// per directory (275 directories on an 8x A40 host).
Result<std::vector<std::string>> RealFs::list_fd(int fd, const std::string& p) {
  std::vector<std::string> out;
  alignas(dirent64) char buf[16384];
  for (;;) {
    const ssize_t n = ::getdents64(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fs_error("cannot list", p, errno);
    if (n == 0) break;
    for (size_t off = 0; off < static_cast<size_t>(n);) {
      unsigned short reclen = 0;
      std::memcpy(&reclen, buf + off + offsetof(dirent64, d_reclen), sizeof reclen);
      const char* name = buf + off + offsetof(dirent64, d_name);
      off += reclen;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      out.emplace_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> RealFs::resolve(std::string_view path) const {
  const std::string p = full(path);
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return fs_error("cannot resolve", p, errno);
  char rootbuf[PATH_MAX];
  if (!::realpath(top_.c_str(), rootbuf)) return fs_error("cannot resolve", top_, errno);
  std::string_view r(buf), base(rootbuf);
  if (base == "/") return std::string(r.substr(1));
  if (r == base) return std::string();
  if (r.size() > base.size() && r.substr(0, base.size()) == base && r[base.size()] == '/')
    return std::string(r.substr(base.size() + 1));
  return os_error(p + " resolves to " + std::string(r) + ", outside " + top_, EXDEV);
}

bool RealFs::exists(std::string_view path) const {
  struct stat st {};
  return ::fstatat(at_fd(), at_name(path).c_str(), &st, 0) == 0;
}

bool RealFs::is_link(std::string_view path) const {
  struct stat st {};
  return ::fstatat(at_fd(), at_name(path).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// ---------------------------------------------------------------- MemFs

MemFs::Node& MemFs::ensure_parent(std::string_view path) {
  std::string cur;
  Node* node = &nodes_[""];
  for (auto comp : split(dir_name(path))) {
    std::string next = join_path(cur, comp);
    node->children.insert(std::string(comp));
    auto it = nodes_.find(next);
    if (it == nodes_.end()) it = nodes_.emplace(next, Node{}).first;
    node = &it->second;
    cur = std::move(next);
  }
  return *node;
}

MemFs::Node& MemFs::put(std::string_view path, Node::Kind kind) {
  std::string key;
  for (auto comp : split(path)) key = join_path(key, comp);
  Node& parent = ensure_parent(key);
  parent.children.insert(std::string(base_name(key)));
  Node& n = nodes_[key];
  if (kind != Node::Kind::dir || n.kind != Node::Kind::dir) {
    n.kind = kind;
    n.data.clear();
    n.err = 0;
  }
  return n;
}

void MemFs::add_dir(std::string_view path) { put(path, Node::Kind::dir); }
void MemFs::add_file(std::string_view path, std::string content) {
  put(path, Node::Kind::file).data = std::move(content);
}
void MemFs::add_link(std::string_view path, std::string target) {
  put(path, Node::Kind::link).data = std::move(target);
}
void MemFs::add_error(std::string_view path, int err) { put(path, Node::Kind::error).err = err; }

bool MemFs::remove(std::string_view path) {
  std::string key;
  for (auto comp : split(path)) key = join_path(key, comp);
  auto it = nodes_.find(key);
  if (key.empty() || it == nodes_.end()) return false;
  const std::string prefix = key + "/";
  auto end = nodes_.lower_bound(prefix);
  while (end != nodes_.end() && end->first.compare(0, prefix.size(), prefix) == 0) ++end;
  nodes_.erase(it, end);
  auto parent = nodes_.find(dir_name(key));
  if (parent != nodes_.end()) parent->second.children.erase(std::string(base_name(key)));
  return true;
}

const MemFs::Node* MemFs::find(std::string_view canonical) const {
  auto it = nodes_.find(canonical);
  return it == nodes_.end() ? nullptr : &it->second;
}

Result<std::string> MemFs::walk(std::string_view path, bool follow_last) const {
  std::deque<std::string> todo;
  for (auto c : split(path)) todo.emplace_back(c);
  std::string cur;
  int hops = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      cur = std::string(dir_name(cur));
      continue;
    }
    const Node* dir = find(cur);
    if (dir && dir->kind == Node::Kind::error)
      return os_error("cannot read " + display(cur) + ": " + std::strerror(dir->err), dir->err);
    if (!dir || dir->kind != Node::Kind::dir)
      return os_error("cannot open " + display(path) + ": " + std::strerror(ENOTDIR), ENOTDIR);
    std::string next = join_path(cur, comp);
    const Node* n = find(next);
    if (!n) return os_error("cannot open " + display(path) + ": " + std::strerror(ENOENT), ENOENT);
    if (n->kind == Node::Kind::link && (follow_last || !todo.empty())) {
      if (++hops > kMaxLinkHops) return os_error("cannot open " + display(path) + ": " + std::strerror(ELOOP), ELOOP);
      std::vector<std::string_view> parts = split(n->data);
      for (auto p = parts.rbegin(); p != parts.rend(); ++p) todo.emplace_front(*p);
      if (!n->data.empty() && n->data.front() == '/') cur.clear();
      continue;
    }
    cur = std::move(next);
  }
  return cur;
}

Result<std::string> MemFs::read_file(std::string_view path) const {
  auto r = walk(path, true);
  if (!r) return r.error();
  const Node* n = &nodes_.at(*r);  // walk only returns paths that exist
  switch (n->kind) {
    case Node::Kind::file: return n->data;
    case Node::Kind::dir: return os_error("cannot read " + display(path) + ": " + std::strerror(EISDIR), EISDIR);
    case Node::Kind::error: return os_error("cannot read " + display(path) + ": " + std::strerror(n->err), n->err);
    case Node::Kind::link: break;
  }
  return os_error("cannot read " + display(path) + ": " + std::strerror(ELOOP), ELOOP);
}

Result<const MemFs::Node*> MemFs::entry(std::string_view path, bool follow_last, Node::Kind want, const char* verb,
                                        int wrong_kind) const {
  auto r = walk(path, follow_last);
  if (!r) return r.error();
  const Node* n = &nodes_.at(*r);  // walk only returns paths that exist
  if (n->kind == want) return n;
  const int err = n->kind == Node::Kind::error ? n->err : wrong_kind;
  return os_error(std::string("cannot ") + verb + " " + display(path) + ": " + std::strerror(err), err);
}

Result<std::string> MemFs::read_link(std::string_view path) const {
  auto n = entry(path, false, Node::Kind::link, "read link", EINVAL);
  if (!n) return n.error();
  return (*n)->data;
}

Result<std::vector<std::string>> MemFs::list_dir(std::string_view path) const {
  auto n = entry(path, true, Node::Kind::dir, "list", ENOTDIR);
  if (!n) return n.error();
  return std::vector<std::string>((*n)->children.begin(), (*n)->children.end());
}

Result<std::string> MemFs::resolve(std::string_view path) const { return walk(path, true); }

bool MemFs::exists(std::string_view path) const { return walk(path, true).ok(); }

bool MemFs::is_link(std::string_view path) const {
  auto r = walk(path, false);
  if (!r) return false;
  const Node* n = find(*r);
  return n && n->kind == Node::Kind::link;
}

std::string MemFs::display(std::string_view path) const {
  if (path.empty()) return origin_;
  return origin_ + ":" + std::string(path);
}

}  // namespace gpu_agent
