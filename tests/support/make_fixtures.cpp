// Writes every scenario host as tests/data/hosts/<name>.sysfs.txt.
// Usage: make-fixtures [DIR]   (default: the source tree's tests/data/hosts)
// The test suite checks the committed files against these builders, so after
// changing a scenario run this (or the tests with GPU_AGENT_REGENERATE=1) and
// commit the result.
#include <exception>
#include <iostream>

#include "scenarios.h"
#include "text_file.h"

int main(int argc, char** argv) {
  try {
    const std::string dir = argc > 1 ? argv[1] : std::string(GPU_AGENT_TEST_DATA) + "/hosts";
    for (const auto& name : gpu_agent::testing::scenario_names()) {
      const std::string path = dir + "/" + name + ".sysfs.txt";
      const std::string text = gpu_agent::testing::build_scenario(name).fixture_text();
      gpu_agent::testing::write_text_file(path, text);
      std::cout << path << " (" << text.size() << " bytes)\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "make-fixtures: " << e.what() << "\n";
    return 1;
  }
}
