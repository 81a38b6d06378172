// Writes the inventory benchmark's host as a real directory tree:
// N A40s (default 8), 32 SR-IOV VFs each, 22 mdev types per VF (about 39k
// sysfs entries at N=8), built by the same TreeBuilder the tests use.
//
// The fixtures leave out each function's binary `config` file (the agent
// never reads it). lspci does, so that the comparison reads a tree shaped
// like a real host's, this also writes a 4096-byte config space per PCI
// function: a type 0 (type 1 for bridges) header with the same vendor,
// device, class, revision and subsystem IDs as the text files, no
// capabilities, the rest zero.
//
// Usage: make-bench-host DIR [GPUS]
// DIR is created if missing (its parent must exist) and should be empty.
// Prints the entries written (directories, files and symbolic links, the
// root excluded). Not a test: scripts/bench-inventory.sh runs it.
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "fixture.h"
#include "parse.h"
#include "scenarios.h"

namespace {

using gpu_agent::MemFs;

uint32_t hex_attr(const MemFs& fs, const std::string& dir, const char* name, int digits) {
  auto text = fs.read_file(dir + "/" + name);
  if (!text) return 0;
  auto v = gpu_agent::parse_hex(*text, digits);
  return v ? *v : 0;
}

void put16(std::string& c, size_t off, uint32_t v) {
  c[off] = static_cast<char>(v & 0xff);
  c[off + 1] = static_cast<char>((v >> 8) & 0xff);
}

// Config space of one function, from the attribute files the builder wrote.
std::string config_space(const MemFs& fs, const std::string& dir) {
  std::string c(4096, '\0');
  const uint32_t cls = hex_attr(fs, dir, "class", 6);
  const bool bridge = (cls >> 8) == 0x0604;
  put16(c, 0x00, hex_attr(fs, dir, "vendor", 4));
  put16(c, 0x02, hex_attr(fs, dir, "device", 4));
  put16(c, 0x04, 0x0006);  // memory space + bus master
  c[0x08] = static_cast<char>(hex_attr(fs, dir, "revision", 2));
  c[0x09] = static_cast<char>(cls & 0xff);
  c[0x0a] = static_cast<char>((cls >> 8) & 0xff);
  c[0x0b] = static_cast<char>((cls >> 16) & 0xff);
  c[0x0e] = bridge ? 0x01 : 0x00;  // header type
  if (!bridge) {
    put16(c, 0x2c, hex_attr(fs, dir, "subsystem_vendor", 4));
    put16(c, 0x2e, hex_attr(fs, dir, "subsystem_device", 4));
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: make-bench-host DIR [GPUS]   (GPUS: 1 to 8, default 8)\n";
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const int gpus = argc > 2 ? std::stoi(argv[2]) : 8;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      std::cerr << "make-bench-host: cannot create " << dir << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    const auto tb = gpu_agent::testing::a40_sriov_vgpu_host(gpus);
    const MemFs& fs = tb.fs();
    size_t dirs = 0, files = 0, links = 0, functions = 0;
    for (const auto& [path, node] : fs.entries()) {
      if (path.empty()) continue;
      using K = MemFs::Node::Kind;
      switch (node.kind) {
        case K::dir:
        case K::error: ++dirs; break;
        case K::file: ++files; break;
        case K::link: ++links; break;
      }
    }
    if (auto r = gpu_agent::unpack_fixture(fs, dir); !r) {
      std::cerr << "make-bench-host: " << r.error().message << "\n";
      return 1;
    }
    auto devices = fs.list_dir("bus/pci/devices");
    if (!devices) throw std::runtime_error(devices.error().message);
    for (const auto& name : *devices) {
      auto canon = fs.resolve("bus/pci/devices/" + name);
      if (!canon) throw std::runtime_error(canon.error().message);
      const std::string path = dir + "/" + *canon + "/config";
      std::ofstream out(path, std::ios::binary);
      out << config_space(fs, *canon);
      if (!out) throw std::runtime_error("cannot write " + path);
      ++functions;
    }
    std::cout << "entries " << dirs + files + links + functions << " (" << dirs << " dirs, " << files + functions
              << " files, " << links << " links; " << functions << " PCI functions, each with a config file)\n"
              << "gpus " << gpus << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "make-bench-host: " << e.what() << "\n";
    return 1;
  }
}
