#pragma once
// Libraries loaded on first use (dlopen) rather than linked, so a command that
// never needs them does not pay their loading and memory: libvirt and libxml2
// (host), libsystemd (daemon). One way to open them and say what to install.
#include <dlfcn.h>

#include <string>

namespace gpu_agent::shared_library {

// dlopen(soname) with RTLD_NOW | RTLD_LOCAL. On failure returns nullptr and
// sets `error` to "NAME is not installed (why); FIX" (FIX: e.g. "install libvirt0").
void* open(const char* soname, const std::string& name, const std::string& fix, std::string& error);

// fn = the symbol `symbol` of lib; false when lib lacks it.
template <typename F>
bool bind(void* lib, const char* symbol, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, symbol));
  return fn != nullptr;
}

}  // namespace gpu_agent::shared_library
