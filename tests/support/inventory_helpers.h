#pragma once
// Small queries over an Inventory for the suites' assertions.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "inventory.h"
#include "model.h"

namespace gpu_agent::testing {

inline Inventory inventory_of(const Fs& fs, const NameLookup* names = nullptr) {
  InventoryOptions o;
  o.names = names;
  auto inv = read_inventory(fs, o);
  BOOST_TEST_REQUIRE(inv.ok(), (inv.ok() ? std::string() : inv.error().message));
  return std::move(*inv);
}

inline const Gpu* find_gpu(const Inventory& inv, std::string_view addr) {
  for (const auto& g : inv.gpus)
    if (g.address.to_string() == addr) return &g;
  return nullptr;
}

inline const Gpu& gpu_at(const Inventory& inv, std::string_view addr) {
  const Gpu* g = find_gpu(inv, addr);
  BOOST_TEST_REQUIRE(g != nullptr, "no GPU " << addr << " in the inventory");
  return *g;
}

// A GPU of a temporary inventory would dangle: keep the inventory in a variable.
const Gpu& gpu_at(Inventory&& inv, std::string_view addr) = delete;

inline std::vector<std::string> gpu_addresses(const Inventory& inv) {
  std::vector<std::string> out;
  for (const auto& g : inv.gpus) out.push_back(g.address.to_string());
  return out;
}

inline std::vector<std::string> problem_codes(const Gpu& g) {
  std::vector<std::string> out;
  for (const auto& p : g.problems) out.push_back(p.code);
  return out;
}

inline const Problem* find_problem(const Gpu& g, std::string_view code) {
  for (const auto& p : g.problems)
    if (p.code == code) return &p;
  return nullptr;
}

inline const Problem& problem_of(const Gpu& g, std::string_view code) {
  const Problem* p = find_problem(g, code);
  BOOST_TEST_REQUIRE(p != nullptr, g.address.to_string() << " has no problem " << code);
  return *p;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// pci.ids in a map, for tests that need names without a file.
class MapNames final : public NameLookup {
 public:
  std::map<uint32_t, std::string> vendors;
  std::map<std::pair<uint32_t, uint32_t>, std::string> products;
  mutable int product_lookups = 0;

  std::optional<std::string> vendor(uint32_t v) const override {
    auto it = vendors.find(v);
    return it == vendors.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::optional<std::string> product(uint32_t v, uint32_t p) const override {
    ++product_lookups;
    auto it = products.find({v, p});
    return it == products.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
};

}  // namespace gpu_agent::testing
