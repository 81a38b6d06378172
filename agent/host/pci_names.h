#pragma once
// Vendor and product names from a pci.ids file through libpci, owned so that
// libpci's fatal error path (it calls exit() on a corrupt pci.ids) cannot end
// the agent: a broken file makes names unavailable and says why, once.
// libpci is the project's chosen pci.ids reader (README, ARCHITECTURE.md):
// keep names on it rather than a reader of our own.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "inventory.h"

struct pci_access;

namespace gpu_agent {

class PciNames final : public NameLookup {
 public:
  // path: a pci.ids file; empty means libpci's default (/usr/share/misc/pci.ids).
  explicit PciNames(const std::string& path = "");
  ~PciNames() override;
  PciNames(const PciNames&) = delete;
  PciNames& operator=(const PciNames&) = delete;

  std::optional<std::string> vendor(uint32_t vendor_id) const override;
  std::optional<std::string> product(uint32_t vendor_id, uint32_t product_id) const override;
  // Frees libpci's copy of pci.ids (about 2 MB) and hands the pages back to
  // the system. Answers already given are kept, so a daemon asking about the
  // same GPUs every pass parses the file once; a new ID parses it again.
  void release() const override;
  // Parses pci.ids now, unless an earlier pass has answers (a daemon asks
  // about the same GPUs every pass: a new ID still parses it when asked).
  void load() const override;
  // Set when the database could not be read; lookups then return nullopt.
  const std::optional<std::string>& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  std::optional<std::string> lookup(int flags, uint32_t a, uint32_t b) const;
  void set_unusable() const;
  pci_access* pacc_ = nullptr;
  std::string path_;
  mutable std::optional<std::string> error_;
  mutable std::map<std::tuple<int, uint32_t, uint32_t>, std::optional<std::string>> answers_;
};

}  // namespace gpu_agent
