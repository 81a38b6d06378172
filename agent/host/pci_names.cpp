#include "pci_names.h"

extern "C" {
#include <pci/pci.h>
}

#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <sys/stat.h>

namespace gpu_agent {
namespace {

// libpci's error callback must not return. It jumps back to the lookup that
// called into libpci; only C frames lie between, so no destructor is skipped.
thread_local std::jmp_buf* g_jump = nullptr;
thread_local char g_message[512];

[[noreturn]] void on_error(char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(g_message, sizeof g_message, fmt, ap);
  va_end(ap);
  if (g_jump) std::longjmp(*g_jump, 1);
  std::abort();  // only reachable if libpci calls error() outside a lookup
}
void on_warning(char*, ...) {}  // warnings (a missing file) surface as "no name"

// One call into libpci: the name lookup (into buf, the answer in *r), or, with
// buf null, only the parse of pci.ids. False when libpci's error() jumped back.
// Kept free of objects with destructors: it is the setjmp frame.
bool guarded_call(pci_access* a, char* buf, int size, int flags, uint32_t x, uint32_t y, const char** r) {
  std::jmp_buf jb;
  std::jmp_buf* volatile saved = g_jump;
  g_jump = &jb;
  bool ok = true;
  if (setjmp(jb) == 0) {
    if (buf) *r = pci_lookup_name(a, buf, size, flags, static_cast<int>(x), static_cast<int>(y));
    else pci_load_name_list(a);
  } else {
    ok = false;
  }
  g_jump = saved;
  return ok;
}

}  // namespace

PciNames::PciNames(const std::string& path) : path_(path) {
  pacc_ = pci_alloc();
  pacc_->error = on_error;
  pacc_->warning = on_warning;
  pacc_->debug = on_warning;
  if (!path.empty()) {
    pci_set_name_list_path(pacc_, strdup(path.c_str()), 1);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      error_ = "cannot read pci.ids " + path + ": " + std::strerror(errno) + " (names will show as IDs)";
  }
  if (path_.empty()) path_ = pacc_->id_file_name ? pacc_->id_file_name : "";
}

PciNames::~PciNames() {
  if (pacc_) pci_cleanup(pacc_);
}

std::optional<std::string> PciNames::lookup(int flags, uint32_t a, uint32_t b) const {
  if (error_) return std::nullopt;
  const auto key = std::make_tuple(flags, a, b);
  if (auto it = answers_.find(key); it != answers_.end()) return it->second;
  char buf[256];
  const char* r = nullptr;
  if (!guarded_call(pacc_, buf, sizeof buf, flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, a, b, &r)) {
    set_unusable();
    return std::nullopt;
  }
  auto& answer = answers_[key];
  if (r) answer = std::string(r);
  return answer;
}

void PciNames::load() const {
  if (error_ || !answers_.empty()) return;
  if (!guarded_call(pacc_, nullptr, 0, 0, 0, 0, nullptr)) set_unusable();
}

// libpci's error() gave up on the file (g_message says why): names stay unavailable.
void PciNames::set_unusable() const {
  error_ = std::string("pci.ids ") + path_ + " is unusable: " + g_message;
  while (!error_->empty() && error_->back() == '\n') error_->pop_back();
}

std::optional<std::string> PciNames::vendor(uint32_t vendor_id) const {
  return lookup(PCI_LOOKUP_VENDOR, vendor_id, 0);
}

std::optional<std::string> PciNames::product(uint32_t vendor_id, uint32_t product_id) const {
  return lookup(PCI_LOOKUP_DEVICE, vendor_id, product_id);
}

void PciNames::release() const {
  if (!pacc_) return;
  pci_free_name_list(pacc_);
  // Thousands of small blocks in the middle of the heap: without a trim they
  // stay resident, and the inventory's larger allocations do not reuse them.
  ::malloc_trim(0);
}

}  // namespace gpu_agent
