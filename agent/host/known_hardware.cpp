#include "known_hardware.h"

#include <array>

namespace gpu_agent {
namespace {

constexpr std::string_view kStarlab =
    "HGX H100 host, lspci: https://github.com/starlab3030/rhel-ai/blob/main/contents/manage_life-cycle_of_rhel_ai.md";
constexpr std::string_view kC4140 =
    "Dell PowerEdge C4140 lspci -vvnn: https://github.com/linuxhw/LsPCI/blob/c0a4a3a6b6c16310c33dc428ada641fd8d369f6f/"
    "Server/Dell/PowerEdge/PowerEdge%20C4140/944FAD941A1D/UBUNTU-20.04/5.4.0-166-GENERIC/X86_64/0EDB8A953E";
constexpr std::string_view kHpeIlo5 =
    "HPE Gen10 Plus: https://github.com/WangZhiYao/WangZhiYao.github.io/blob/82e6e99ce7f7fb2cb7ed4582645ae51286283e5f/"
    "source/_posts/proxmox-ve-ubuntu-nvidia-passthrough.md; DL325 Gen10 lspci -knn: "
    "https://lore.kernel.org/all/20190722153100.8C5584084340@huitzilopochtli.metztli-it.com/";
constexpr std::string_view kIlo4 =
    "HPE Gen8/Gen9 iLO4: https://lore.kernel.org/all/20200206175432.4r5vaurm6codfa4a@cantor/";
constexpr std::string_view kAm5 =
    "AM5 Proxmox host, IOMMU group walk: https://github.com/Sean-Mitchell/HomeLab/blob/"
    "9691ee14f2ab5aae09ad7a284d79d8f86fc6e568/Notes/Proxmox.md";

// Sorted by vendor, product (find_known_device searches it linearly: it is short).
constexpr std::array<KnownDevice, 9> kKnown{{
    {0x1002, 0x13c0, KnownKind::integrated_display, "AMD Ryzen 7000/9000 (Raphael/Granite Ridge) integrated Radeon",
     kAm5},
    {0x102b, 0x0533, KnownKind::bmc_display, "Matrox G200EH (HPE iLO4)", kIlo4},
    {0x102b, 0x0534, KnownKind::bmc_display, "Matrox G200eR2 (Dell iDRAC7/iDRAC8)",
     "Proxmox host beside an RTX 3070 Ti: https://www.wangsansan.com/archives/181/"},
    {0x102b, 0x0536, KnownKind::bmc_display, "Matrox G200eW3 (Dell iDRAC9)", kC4140},
    {0x102b, 0x0538, KnownKind::bmc_display, "Matrox G200eH3 (HPE iLO5)", kHpeIlo5},
    {0x103c, 0x22f6, KnownKind::management, "HPE iLO5 virtual USB controller (remote console keyboard and media)",
     kHpeIlo5},
    {0x103c, 0x3306, KnownKind::management, "HPE iLO standard slave instrumentation and system support", kHpeIlo5},
    {0x103c, 0x3307, KnownKind::management, "HPE iLO management processor support and messaging (hpilo)", kHpeIlo5},
    {0x1a03, 0x2000, KnownKind::bmc_display, "ASPEED AST2x00 BMC graphics", kStarlab},
}};

}  // namespace

const KnownDevice* find_known_device(uint32_t vendor_id, uint32_t product_id) {
  for (const auto& k : kKnown)
    if (k.vendor_id == vendor_id && k.product_id == product_id) return &k;
  return nullptr;
}

bool is_gpu_vendor(uint32_t vendor_id) { return vendor_id == 0x1002 || vendor_id == 0x8086 || vendor_id == 0x10de; }

bool is_host_display_driver(std::string_view driver) { return driver != "vfio-pci" && driver != "pci-stub"; }

}  // namespace gpu_agent
