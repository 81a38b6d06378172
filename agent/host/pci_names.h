#pragma once
// Vendor and product names from a pci.ids file, read the way libpci reads it
// (same syntax checks, same words for a broken file, same default file) but
// without keeping it: each ID not asked about before is one pass over the
// file in 64 KiB chunks, and only the answers are kept. A broken file makes
// names unavailable and says why, once. A gzip-compressed pci.ids is read
// through zlib, loaded only then.
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "inventory.h"

namespace gpu_agent {

class PciNames final : public NameLookup {
 public:
  // path: a pci.ids file; empty means libpci's default (/usr/share/misc/pci.ids.gz,
  // else /usr/share/misc/pci.ids).
  explicit PciNames(const std::string& path = "");
  ~PciNames() override;
  PciNames(const PciNames&) = delete;
  PciNames& operator=(const PciNames&) = delete;

  std::optional<std::string> vendor(uint32_t vendor_id) const override;
  // The vendor's name is found on the same pass: asking for the product first
  // answers both with one read of the file.
  std::optional<std::string> product(uint32_t vendor_id, uint32_t product_id) const override;
  // Set when the database could not be read; lookups then return nullopt.
  const std::optional<std::string>& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  std::optional<std::string> lookup(uint32_t vendor_id, std::optional<uint32_t> product_id) const;
  void load(uint32_t vendor_id, std::optional<uint32_t> product_id) const;
  std::string path_;
  mutable std::optional<std::string> error_;
  mutable std::map<std::pair<uint32_t, std::optional<uint32_t>>, std::optional<std::string>> answers_;
};

}  // namespace gpu_agent
