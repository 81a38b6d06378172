#include <exception>
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    return gpu_agent::run_cli(args, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "gpu-agent: internal error: " << e.what() << "\n";
    return 1;
  }
}
