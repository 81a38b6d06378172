#include "fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gpu_agent {
namespace {

struct ErrnoName {
  const char* name;
  int value;
};
constexpr std::array<ErrnoName, 8> kErrnoNames{{{"EACCES", EACCES},
                                                {"EPERM", EPERM},
                                                {"EIO", EIO},
                                                {"ENOENT", ENOENT},
                                                {"ENODEV", ENODEV},
                                                {"EINVAL", EINVAL},
                                                {"EBUSY", EBUSY},
                                                {"ENXIO", ENXIO}}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The lossy capture keeps only a link's last component; rebuild kernel-shaped targets.
Result<bool> add_legacy_line(MemFs& fs, std::string_view line) {
  // ADDR/rest
  size_t slash = line.find('/');
  if (slash == std::string_view::npos) return make_error("expected ADDR/ATTR");
  const std::string addr(line.substr(0, slash));
  std::string_view rest = line.substr(slash + 1);
  const std::string dev = "devices/" + addr;
  if (size_t arrow = rest.find(" -> "); arrow != std::string_view::npos) {
    const std::string name(trim(rest.substr(0, arrow)));
    const std::string target(trim(rest.substr(arrow + 4)));
    if (name == "driver") {
      fs.add_dir("bus/pci/drivers/" + target);
      fs.add_link(dev + "/driver", "../../bus/pci/drivers/" + target);
    } else if (name == "iommu_group") {
      fs.add_link(dev + "/iommu_group", "../../kernel/iommu_groups/" + target);
      fs.add_link("kernel/iommu_groups/" + target + "/devices/" + addr, "../../../../devices/" + addr);
    } else {
      fs.add_link(dev + "/" + name, "../" + target);  // physfn, virtfnN: sibling devices
    }
    return true;
  }
  if (rest.rfind("mdev_supported_types/", 0) == 0) {
    rest.remove_prefix(std::strlen("mdev_supported_types/"));
    size_t sp = rest.find(' ');
    const std::string type(rest.substr(0, sp));
    std::string_view kv = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    const std::string base = dev + "/mdev_supported_types/" + type;
    fs.add_dir(base + "/devices");
    // keys come in this order; description runs to the end of the line
    static constexpr std::array<const char*, 4> keys{"name=", "available_instances=", "device_api=", "description="};
    for (size_t k = 0; k < keys.size(); ++k) {
      size_t start = kv.find(keys[k]);
      if (start == std::string_view::npos) continue;
      start += std::strlen(keys[k]);
      size_t end = kv.size();
      for (size_t n = k + 1; n < keys.size(); ++n) {
        size_t e = kv.find(std::string(" ") + keys[n], start);
        if (e != std::string_view::npos) {
          end = e;
          break;
        }
      }
      std::string key(keys[k]);
      key.pop_back();
      fs.add_file(base + "/" + key, std::string(trim(kv.substr(start, end - start))) + "\n");
    }
    return true;
  }
  size_t eq = rest.find(" = ");
  if (eq == std::string_view::npos) return make_error("expected ADDR/ATTR = VALUE or ADDR/LINK -> TARGET");
  std::string_view value = rest.substr(eq + 3);
  if (!value.empty() && value.back() == ' ') value.remove_suffix(1);  // the capture adds one
  fs.add_file(dev + "/" + std::string(trim(rest.substr(0, eq))), std::string(value) + "\n");
  return true;
}

Result<Fixture> parse_legacy(std::string_view text, const std::string& origin) {
  Fixture fx{std::make_unique<MemFs>(origin), {}};
  MemFs& fs = *fx.fs;
  fs.add_dir("bus/pci/devices");
  fs.add_dir("kernel/iommu_groups");
  size_t lineno = 0;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (trim(l).empty()) continue;
    if (l.rfind("### device ", 0) == 0) {
      std::string addr(trim(l.substr(11)));
      fs.add_dir("devices/" + addr);
      fs.add_link("bus/pci/devices/" + addr, "../../../devices/" + addr);
      continue;
    }
    if (l.front() == '#') continue;
    auto r = add_legacy_line(fs, l);
    if (!r) return make_error(origin + ":" + std::to_string(lineno) + ": " + r.error().message);
  }
  return fx;
}

}  // namespace

std::string escape_value(std::string_view raw) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else out += static_cast<char>(c);
  }
  return out;
}

Result<std::string> unescape_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i >= s.size()) return make_error("dangling backslash at the end of the value");
    switch (s[i]) {
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'x': {
        int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
        int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) return make_error("\\x must be followed by two hex digits");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: return make_error(std::string("unknown escape \\") + s[i]);
    }
  }
  return out;
}

Result<Fixture> parse_fixture(std::string_view text, const std::string& origin) {
  // The lossy older format is recognised by its first entry ("### device ..."), so a
  // comment further down a v1 file that happens to read like one changes nothing.
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    std::string_view line = trim(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.rfind("### device ", 0) == 0) return parse_legacy(text, origin);
    if (!line.empty() && line.front() != '#') break;  // the first entry of a v1 file
  }

  Fixture fx{std::make_unique<MemFs>(origin), {}};
  MemFs& fs = *fx.fs;
  size_t lineno = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto fail = [&](const std::string& why) { return make_error(origin + ":" + std::to_string(lineno) + ": " + why); };
    if (trim(line).empty() || line.front() == '#') continue;
    if (line.front() == '@') {
      size_t sp = line.find(' ');
      std::string key(line.substr(1, sp == std::string_view::npos ? line.npos : sp - 1));
      if (key.empty()) return fail("metadata line needs a key: @key value");
      fx.meta[key] = sp == std::string_view::npos ? "" : std::string(trim(line.substr(sp + 1)));
      continue;
    }
    if (line.size() < 3 || line[1] != ' ')
      return fail("unknown line '" + std::string(line.substr(0, 40)) +
                  "' (expected d, f, F, l or e, then a space and a path)");
    const char kind = line[0];
    std::string_view body = line.substr(2);
    switch (kind) {
      case 'd': fs.add_dir(trim(body)); break;
      case 'f':
      case 'F': {
        size_t eq = body.find(" = ");
        std::string_view path = eq == std::string_view::npos ? trim(body) : body.substr(0, eq);
        if (eq == std::string_view::npos && body.size() >= 2 && body.substr(body.size() - 2) == " =")
          path = body.substr(0, body.size() - 2);
        else if (eq == std::string_view::npos) return fail("file line needs ' = ': f PATH = VALUE");
        auto value = unescape_value(eq == std::string_view::npos ? std::string_view{} : body.substr(eq + 3));
        if (!value) return fail(value.error().message);
        fs.add_file(trim(path), kind == 'f' ? *value + "\n" : *value);
        break;
      }
      case 'l': {
        size_t arrow = body.find(" -> ");
        if (arrow == std::string_view::npos) return fail("link line needs ' -> ': l PATH -> TARGET");
        std::string_view target = trim(body.substr(arrow + 4));
        if (target.empty()) return fail("link target is empty");
        fs.add_link(trim(body.substr(0, arrow)), std::string(target));
        break;
      }
      case 'e': {
        size_t sp = body.rfind(' ');
        if (sp == std::string_view::npos) return fail("error line needs an errno name: e PATH EACCES");
        std::string_view name = body.substr(sp + 1);
        int err = 0;
        for (const auto& e : kErrnoNames)
          if (name == e.name) err = e.value;
        if (!err) return fail("unknown errno name '" + std::string(name) + "'");
        fs.add_error(trim(body.substr(0, sp)), err);
        break;
      }
      default: return fail(std::string("unknown line kind '") + kind + "' (expected d, f, F, l, e, @ or #)");
    }
  }
  return fx;
}

Result<Fixture> load_fixture_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return os_error("cannot open fixture " + path + ": " + std::strerror(errno), errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error("cannot read fixture " + path);
  return parse_fixture(ss.str(), path);
}

std::string format_fixture(const MemFs& fs, const std::map<std::string, std::string>& meta) {
  std::string out = "# gpu-agent sysfs fixture v1\n";
  for (const auto& [k, v] : meta) out += "@" + k + " " + v + "\n";
  for (const auto& [path, node] : fs.entries()) {
    if (path.empty()) continue;
    using K = MemFs::Node::Kind;
    switch (node.kind) {
      case K::dir:
        if (node.children.empty()) out += "d " + path + "\n";  // others are implied by their entries
        break;
      case K::file:
        if (!node.data.empty() && node.data.back() == '\n')
          out += "f " + path + " = " + escape_value(std::string_view(node.data).substr(0, node.data.size() - 1)) + "\n";
        else out += "F " + path + " = " + escape_value(node.data) + "\n";
        break;
      case K::link: out += "l " + path + " -> " + node.data + "\n"; break;
      case K::error: {
        const char* name = "EIO";
        for (const auto& e : kErrnoNames)
          if (e.value == node.err) name = e.name;
        out += "e " + path + " " + name + "\n";
        break;
      }
    }
  }
  return out;
}

Result<bool> unpack_fixture(const MemFs& fs, const std::string& dir) {
  for (const auto& [path, node] : fs.entries()) {
    const std::string p = path.empty() ? dir : dir + "/" + path;
    using K = MemFs::Node::Kind;
    switch (node.kind) {
      case K::dir:
      case K::error:
        if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST)
          return os_error("cannot create " + p + ": " + std::strerror(errno), errno);
        break;
      case K::file: {
        std::ofstream out(p, std::ios::binary);
        out << node.data;
        if (!out) return make_error("cannot write " + p);
        break;
      }
      case K::link:
        if (::symlink(node.data.c_str(), p.c_str()) != 0)
          return os_error("cannot link " + p + ": " + std::strerror(errno), errno);
        break;
    }
  }
  return true;
}

}  // namespace gpu_agent
