// unpack_fixture_tool FIXTURE DIR: a capture as a real sysfs tree below DIR,
// for the reliability tests that run the agent over real files (a non-root
// agent over unreadable ones).
#include <iostream>

#include "fixture.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: unpack_fixture_tool FIXTURE DIR\n";
    return 2;
  }
  auto fx = gpu_agent::load_fixture_file(argv[1]);
  if (!fx) {
    std::cerr << fx.error().message << "\n";
    return 1;
  }
  auto r = gpu_agent::unpack_fixture(*fx->fs, argv[2]);
  if (!r) {
    std::cerr << r.error().message << "\n";
    return 1;
  }
  return 0;
}
