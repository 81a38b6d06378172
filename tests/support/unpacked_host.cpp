#include "unpacked_host.h"

#include <stdexcept>

namespace gpu_agent::testing {

namespace {
Fixture load(const std::string& path) {
  auto fx = load_fixture_file(path);
  if (!fx) throw std::runtime_error(fx.error().message);
  return std::move(*fx);
}
}  // namespace

UnpackedHost::UnpackedHost(const std::string& name)
    : path_(std::string(GPU_AGENT_TEST_DATA) + "/hosts/" + name + ".sysfs.txt"),
      fixture_(load(path_)),
      dir_("gpu-agent-" + name) {
  auto r = unpack_fixture(*fixture_.fs, dir_.path());
  if (!r) throw std::runtime_error("unpacking " + path_ + ": " + r.error().message);
  real_ = std::make_unique<RealFs>(dir_.path());
}

const std::string& UnpackedHost::hostname() const {
  static const std::string none;
  auto it = fixture_.meta.find("hostname");
  return it == fixture_.meta.end() ? none : it->second;
}

}  // namespace gpu_agent::testing
