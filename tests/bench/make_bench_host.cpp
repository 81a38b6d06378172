// Writes the inventory benchmark's host as a real directory tree:
// N A40s (default 8), 32 SR-IOV VFs each, 22 mdev types per VF (about 40k
// sysfs entries at N=8), built by the same TreeBuilder the tests use.
//
// Usage: make-bench-host DIR [GPUS]
// DIR must not exist or be empty. Prints the number of entries written
// (directories, files and symbolic links, the root excluded) and the
// hostname. Not a test: scripts/bench-inventory.sh runs it.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "fixture.h"
#include "scenarios.h"

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
    const auto& entries = tb.fs().entries();
    size_t dirs = 0, files = 0, links = 0;
    for (const auto& [path, node] : entries) {
      if (path.empty()) continue;
      using K = gpu_agent::MemFs::Node::Kind;
      switch (node.kind) {
        case K::dir: case K::error: ++dirs; break;
        case K::file: ++files; break;
        case K::link: ++links; break;
      }
    }
    if (auto r = gpu_agent::unpack_fixture(tb.fs(), dir); !r) {
      std::cerr << "make-bench-host: " << r.error().message << "\n";
      return 1;
    }
    std::cout << "entries " << dirs + files + links << " (" << dirs << " dirs, " << files << " files, " << links
              << " links)\n"
              << "gpus " << gpus << "\n"
              << "hostname " << tb.hostname() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "make-bench-host: " << e.what() << "\n";
    return 1;
  }
}
