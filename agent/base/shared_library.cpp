#include "shared_library.h"

namespace gpu_agent::shared_library {

void* open(const char* soname, const std::string& name, const std::string& fix, std::string& error) {
  void* lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    error = name + " is not installed (" + (e ? e : std::string(soname) + " not found") + "); " + fix;
  }
  return lib;
}

}  // namespace gpu_agent::shared_library
