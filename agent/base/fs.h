#pragma once
// A read-only view of a sysfs tree. Only main knows where /sys is: every reader
// takes an Fs, which is either the real file system under a root directory or
// an in-memory tree loaded from a text fixture (a capture of another host).
// Paths are relative to the root ("bus/pci/devices/0000:3b:00.0/vendor").
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace gpu_agent {

class Fs {
 public:
  virtual ~Fs() = default;
  // Contents of a regular file, following symbolic links.
  virtual Result<std::string> read_file(std::string_view path) const = 0;
  // Target of a symbolic link, as stored (not resolved).
  virtual Result<std::string> read_link(std::string_view path) const = 0;
  // Names in a directory (following links), sorted.
  virtual Result<std::vector<std::string>> list_dir(std::string_view path) const = 0;
  // The path with every link resolved, relative to the root.
  virtual Result<std::string> resolve(std::string_view path) const = 0;
  // True when the path names something, following links (an unreadable entry counts).
  virtual bool exists(std::string_view path) const = 0;
  // True when the entry itself (not following a final link) is a symbolic link.
  virtual bool is_link(std::string_view path) const = 0;
  // How to show a path to a person: "/sys/bus/pci/..." or "fixture.txt:bus/pci/...".
  virtual std::string display(std::string_view path) const = 0;
  // DIR/NAME/LEAF for each NAME, in order: what read_file would answer for each.
  // RealFs opens DIR once and every file relative to it (openat), so the kernel
  // walks DIR's long sysfs path once instead of once per file (the 22
  // available_instances under each VF's mdev_supported_types).
  virtual std::vector<Result<std::string>> read_under(std::string_view dir, const std::vector<std::string>& names,
                                                      std::string_view leaf) const;
  // list_dir(DIR), then read_under(DIR, those names, LEAF). RealFs opens DIR
  // once for both: the listing and every file come from the same fd.
  struct Listing {
    std::vector<std::string> names;
    std::vector<Result<std::string>> leaves;
  };
  virtual Result<Listing> list_read_under(std::string_view dir, std::string_view leaf) const;
  // Whether these reads may run on several threads at once (RealFs: yes, it
  // keeps no state between calls; any other Fs is read on one thread).
  virtual bool concurrent_reads() const { return false; }
  // A view of DIR: its paths are relative to DIR, display() and resolve()
  // answer as this Fs would for DIR/PATH. RealFs opens DIR once (O_PATH) and
  // reads relative to it, so the kernel walks a device's long sysfs path (a
  // link, then 5-8 directories) once for all its attributes instead of once
  // per attribute. Never null: when DIR cannot be opened the view still
  // answers, and each read names its own error.
  virtual std::unique_ptr<const Fs> at(std::string_view dir) const;
};

// The real file system below a directory (normally "/sys").
class RealFs final : public Fs {
 public:
  explicit RealFs(std::string root);
  ~RealFs() override;
  RealFs(const RealFs&) = delete;
  RealFs& operator=(const RealFs&) = delete;
  Result<std::string> read_file(std::string_view path) const override;
  Result<std::string> read_link(std::string_view path) const override;
  Result<std::vector<std::string>> list_dir(std::string_view path) const override;
  Result<std::string> resolve(std::string_view path) const override;
  bool exists(std::string_view path) const override;
  bool is_link(std::string_view path) const override;
  std::string display(std::string_view path) const override;
  std::vector<Result<std::string>> read_under(std::string_view dir, const std::vector<std::string>& names,
                                              std::string_view leaf) const override;
  Result<Listing> list_read_under(std::string_view dir, std::string_view leaf) const override;
  bool concurrent_reads() const override { return true; }
  std::unique_ptr<const Fs> at(std::string_view dir) const override;
  const std::string& root() const { return root_; }

 private:
  // A view of the directory root_ (shown as such), open as dfd (owned); top:
  // the root of the RealFs it came from, what resolve() answers relative to.
  RealFs(std::string root, std::string top, int dfd);
  std::string full(std::string_view path) const;
  // The directory fd and the name to pass to an *at() call for path: this
  // view's fd and path ("." for the view itself), or AT_FDCWD and the full path.
  int at_fd() const;
  std::string at_name(std::string_view path) const;
  static Result<std::string> read_open(int fd, int open_errno, std::string_view dir, std::string_view rel);
  static std::vector<Result<std::string>> read_at(int dfd, const std::string& d, const std::vector<std::string>& names,
                                                  std::string_view leaf);
  static Result<std::vector<std::string>> list_fd(int fd, const std::string& p);
  std::string root_;
  std::string top_;
  int dfd_ = -1;
};

// An in-memory tree: directories, files, links, and entries that fail to read
// with a given errno (for fixtures of broken hosts). Links resolve like the
// kernel's: relative to their directory, at most 40 hops, then ELOOP.
class MemFs final : public Fs {
 public:
  explicit MemFs(std::string origin = "fixture") : origin_(std::move(origin)) {}

  void add_dir(std::string_view path);
  void add_file(std::string_view path, std::string content);
  void add_link(std::string_view path, std::string target);
  void add_error(std::string_view path, int err);  // reading this entry fails with err
  // Remove an entry and everything under it; returns false if it was not there.
  bool remove(std::string_view path);

  Result<std::string> read_file(std::string_view path) const override;
  Result<std::string> read_link(std::string_view path) const override;
  Result<std::vector<std::string>> list_dir(std::string_view path) const override;
  Result<std::string> resolve(std::string_view path) const override;
  bool exists(std::string_view path) const override;
  bool is_link(std::string_view path) const override;
  std::string display(std::string_view path) const override;

  struct Node {
    enum class Kind { dir, file, link, error } kind = Kind::dir;
    std::string data;  // file content or link target
    int err = 0;
    std::set<std::string> children;
  };
  // Every entry, sorted by path, for writing a fixture or unpacking a tree.
  const std::map<std::string, Node, std::less<>>& entries() const { return nodes_; }

 private:
  Node& ensure_parent(std::string_view path);
  Node& put(std::string_view path, Node::Kind kind);
  // Canonical path of `path`; follow_last decides whether a final link is followed.
  Result<std::string> walk(std::string_view path, bool follow_last) const;
  // The entry at path when it is of kind want, else the error reading it gives:
  // "cannot VERB PATH: ..." with its errno, or wrong_kind's for another kind.
  Result<const Node*> entry(std::string_view path, bool follow_last, Node::Kind want, const char* verb,
                            int wrong_kind) const;
  const Node* find(std::string_view canonical) const;

  std::string origin_;
  std::map<std::string, Node, std::less<>> nodes_{{"", Node{}}};
};

// "a/b/../c" style helpers shared by both implementations.
std::string join_path(std::string_view a, std::string_view b);
std::string_view base_name(std::string_view path);
std::string_view dir_name(std::string_view path);

}  // namespace gpu_agent
