// libFuzzer target: every parser of a Placement answer (success bodies and
// error bodies): what a hostile or broken server can send the agent.
#include <cstdint>
#include <string_view>

#include "api_error.h"
#include "microversion.h"
#include "responses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  namespace p = gpu_agent::placement;
  (void)p::parse::versions(body);
  (void)p::parse::provider(body);
  (void)p::parse::providers(body);
  (void)p::parse::inventories(body);
  (void)p::parse::provider_traits(body);
  (void)p::parse::usages(body);
  (void)p::parse::trait_names(body);
  if (auto e = p::parse_error_body(body)) (void)p::classify(e->status, e->code);
  (void)p::short_detail(body);
  (void)p::body_snippet(body);
  (void)p::parse_microversion(body);
  return 0;
}
