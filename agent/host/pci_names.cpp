#include "pci_names.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <cstring>

namespace gpu_agent {
namespace {

// Where libpci (Debian's build) looks when it is given no file: the .gz first,
// then the same name without it.
constexpr const char* kDefaultIds = "/usr/share/misc/pci.ids.gz";
// libpci's line buffer: a longer line is "Line too long".
constexpr size_t kMaxLine = 1024;
// libpci formats names into a 256-byte buffer and marks a cut with "...".
constexpr size_t kNameBuffer = 256;

// zlib, loaded only for a compressed pci.ids (Debian ships it plain).
struct Zlib {
  using File = void*;
  File (*open)(const char*, const char*) = nullptr;
  int (*read)(File, void*, unsigned) = nullptr;
  int (*close)(File) = nullptr;
  std::string error;
};

const Zlib& zlib() {
  static const Zlib z = [] {
    Zlib l;
    void* lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib) {
      l.open = reinterpret_cast<decltype(l.open)>(dlsym(lib, "gzopen"));
      l.read = reinterpret_cast<decltype(l.read)>(dlsym(lib, "gzread"));
      l.close = reinterpret_cast<decltype(l.close)>(dlsym(lib, "gzclose"));
    }
    if (!l.open || !l.read || !l.close) l.error = "it is compressed and zlib is not installed (install zlib1g)";
    return l;
  }();
  return z;
}

// A pci.ids file read in 64 KiB chunks, plain or gzip: nothing of it is kept.
class IdsFile {
 public:
  ~IdsFile() {
    if (gz_) zlib().close(gz_);
    if (fd_ >= 0) ::close(fd_);
  }
  // false when the file cannot be opened (libpci then has no names, quietly)
  bool open(const std::string& path, std::string& error) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return false;
    unsigned char magic[2] = {};
    if (::pread(fd_, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      ::close(fd_);
      fd_ = -1;
      if (!zlib().error.empty()) {
        error = zlib().error;
        return true;
      }
      gz_ = zlib().open(path.c_str(), "rb");
      return gz_ != nullptr;
    }
    return true;
  }
  // The next line without its '\n'; false at the end. error: "I/O error".
  bool line(std::string_view& out, const char*& error) {
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf_ + pos_, '\n', end_ - pos_));
      if (nl) {
        out = std::string_view(buf_ + pos_, static_cast<size_t>(nl - (buf_ + pos_)));
        pos_ = static_cast<size_t>(nl - buf_) + 1;
        return true;
      }
      if (eof_) {
        out = std::string_view(buf_ + pos_, end_ - pos_);
        pos_ = end_;
        return !out.empty();
      }
      fill(error);
      if (error) return false;
    }
  }

 private:
  void fill(const char*& error) {
    std::memmove(buf_, buf_ + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    if (end_ == sizeof buf_) {  // a line longer than the buffer: libpci stops at it too
      error = "Line too long";
      return;
    }
    const unsigned room = static_cast<unsigned>(sizeof buf_ - end_);
    const long n = gz_ ? zlib().read(gz_, buf_ + end_, room) : ::read(fd_, buf_ + end_, room);
    if (n < 0) error = "I/O error";
    else if (n == 0) eof_ = true;
    else end_ += static_cast<size_t>(n);
  }

  int fd_ = -1;
  Zlib::File gz_ = nullptr;
  char buf_[64 * 1024];
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// n hex digits at the start of s; -1 when there are not.
long hex_at(std::string_view s, size_t at, size_t n) {
  if (s.size() < at + n) return -1;
  long v = 0;
  for (size_t i = at; i < at + n; ++i) {
    const int d = hex_digit(s[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

bool white_at(std::string_view s, size_t at) { return at < s.size() && (s[at] == ' ' || s[at] == '\t'); }

// The first position from at that is no blank (s.size() when there is none).
size_t skip_white(std::string_view s, size_t at) {
  while (white_at(s, at)) ++at;
  return std::min(at, s.size());
}

// pci.ids syntax as libpci checks it (its words for the errors), answering
// one vendor or vendor:device on the way. Every line is checked, as libpci
// does before it answers anything, so a broken file gives no names at all.
class IdsParser {
 public:
  IdsParser(uint32_t vendor, std::optional<uint32_t> device) : vendor_(vendor), device_(device) {}
  const char* line(std::string_view l);
  std::optional<std::string> vendor_name, device_name;

 private:
  enum class Block { none, unknown, vendor, device, subsystem, generic, klass, subclass, progif };
  const char* top_level(std::string_view p);
  const char* nested(std::string_view p, size_t nest);
  const char* name(std::string_view rest, size_t at);

  uint32_t vendor_;
  std::optional<uint32_t> device_;
  Block block_ = Block::none;
  long id1_ = -1, id2_ = -1;
  std::bitset<65536> vendors_;  // seen, for "S" blocks
  Block named_ = Block::none;   // what the current line names
};

const char* IdsParser::line(std::string_view l) {
  if (l.size() >= kMaxLine - 1) return "Line too long";
  // memchr, not find_first_of: that searches the set once per character
  if (std::memchr(l.data(), '\0', l.size())) return "Line too long";  // libpci reads lines as C strings
  if (const void* cr = std::memchr(l.data(), '\r', l.size()))
    l = l.substr(0, static_cast<size_t>(static_cast<const char*>(cr) - l.data()));
  if (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
  const size_t first = skip_white(l, 0);
  if (first == l.size() || l[first] == '#') return nullptr;
  size_t nest = 0;
  while (l[nest] == '\t') ++nest;
  return nest == 0 ? top_level(l) : nested(l.substr(nest), nest);
}

const char* IdsParser::top_level(std::string_view p) {
  static const char kParse[] = "Parse error";
  id1_ = -1;
  if (p.size() >= 2 && p[0] == 'C' && p[1] == ' ') {
    if (hex_at(p, 2, 2) < 0 || !white_at(p, 4)) return kParse;
    block_ = Block::klass;
    return name(p, 5);
  }
  if (p.size() >= 2 && p[0] == 'S' && p[1] == ' ') {
    const long v = hex_at(p, 2, 4);
    if (v < 0 || p.size() != 6) return kParse;
    if (!vendors_[static_cast<size_t>(v)]) return "Vendor does not exist";
    block_ = Block::generic;
    return nullptr;
  }
  if (p.size() >= 2 && p[0] >= 'A' && p[0] <= 'Z' && p[1] == ' ') {
    block_ = Block::unknown;
    return nullptr;
  }
  id1_ = hex_at(p, 0, 4);
  if (id1_ < 0 || !white_at(p, 4)) return kParse;
  block_ = Block::vendor;
  vendors_[static_cast<size_t>(id1_)] = true;
  return name(p, 5);
}

const char* IdsParser::nested(std::string_view p, size_t nest) {
  static const char kParse[] = "Parse error";
  if (block_ == Block::unknown) return nullptr;
  const bool ids = block_ == Block::vendor || block_ == Block::device || block_ == Block::subsystem;
  const bool classes = block_ == Block::klass || block_ == Block::subclass || block_ == Block::progif;
  if (nest == 1 && (ids || block_ == Block::generic)) {
    id2_ = hex_at(p, 0, 4);
    if (id2_ < 0 || !white_at(p, 4)) return kParse;
    if (ids) block_ = Block::device;
    return name(p, 5);
  }
  if (nest == 1 && classes) {
    if (hex_at(p, 0, 2) < 0 || !white_at(p, 2)) return kParse;
    block_ = Block::subclass;
    return name(p, 3);
  }
  if (nest == 2 && (block_ == Block::device || block_ == Block::subsystem)) {
    if (hex_at(p, 0, 4) < 0 || !white_at(p, 4) || hex_at(p, 5, 4) < 0 || !white_at(p, 9)) return kParse;
    block_ = Block::subsystem;
    return name(p, 10);
  }
  if (nest == 2 && classes) {
    if (hex_at(p, 0, 2) < 0 || !white_at(p, 2)) return kParse;
    block_ = Block::progif;
    return name(p, 3);
  }
  return kParse;
}

// The name after the IDs: required; kept when it is the one asked for.
const char* IdsParser::name(std::string_view rest, size_t at) {
  const size_t start = skip_white(rest, at);
  if (start >= rest.size()) return "Parse error";
  if (id1_ != static_cast<long>(vendor_)) return nullptr;
  std::string_view n = rest.substr(start);
  if (block_ == Block::vendor && !vendor_name) vendor_name = std::string(n);
  if (block_ == Block::device && device_ && id2_ == static_cast<long>(*device_) && !device_name)
    device_name = std::string(n);
  return nullptr;
}

std::optional<std::string> as_libpci_shows(std::optional<std::string> name) {
  if (name && name->size() >= kNameBuffer) name = name->substr(0, kNameBuffer - 4) + "...";
  return name;
}

}  // namespace

PciNames::PciNames(const std::string& path) : path_(path.empty() ? kDefaultIds : path) {
  if (!path.empty()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      error_ = "cannot read pci.ids " + path + ": " + std::strerror(errno) + " (names will show as IDs)";
  }
}

PciNames::~PciNames() = default;

// One pass over the file for an ID not asked about before: the vendor's name,
// and the device's when one is asked for (the vendor's comes with it).
void PciNames::load(uint32_t vendor_id, std::optional<uint32_t> product_id) const {
  std::string file = path_;
  IdsFile f;
  std::string open_error;
  bool opened = f.open(file, open_error);
  if (!opened && file.size() > 3 && file.compare(file.size() - 3, 3, ".gz") == 0) {
    file.resize(file.size() - 3);
    opened = f.open(file, open_error);
  }
  if (!open_error.empty()) error_ = "pci.ids " + file + " is unusable: " + open_error;
  if (!opened || error_) return;
  IdsParser parser(vendor_id, product_id);
  std::string_view l;
  const char* err = nullptr;
  int lino = 0;
  while (!err && f.line(l, err)) {
    ++lino;
    err = parser.line(l);
  }
  if (err && std::strcmp(err, "Line too long") == 0 && lino == 0) lino = 1;
  if (err) {
    error_ = "pci.ids " + file + " is unusable: " + err + " at " + file + ", line " + std::to_string(lino);
    return;
  }
  answers_[{vendor_id, std::nullopt}] = as_libpci_shows(std::move(parser.vendor_name));
  if (product_id) answers_[{vendor_id, product_id}] = as_libpci_shows(std::move(parser.device_name));
}

std::optional<std::string> PciNames::lookup(uint32_t vendor_id, std::optional<uint32_t> product_id) const {
  if (error_) return std::nullopt;
  const auto key = std::make_pair(vendor_id, product_id);
  auto it = answers_.find(key);
  if (it == answers_.end()) {
    load(vendor_id, product_id);
    if (error_) return std::nullopt;
    it = answers_.find(key);
    if (it == answers_.end()) it = answers_.emplace(key, std::nullopt).first;  // no file: no name, quietly
  }
  return it->second;
}

std::optional<std::string> PciNames::vendor(uint32_t vendor_id) const { return lookup(vendor_id, std::nullopt); }

std::optional<std::string> PciNames::product(uint32_t vendor_id, uint32_t product_id) const {
  return lookup(vendor_id, product_id);
}

}  // namespace gpu_agent
