#pragma once
// What the inventory finds on a host. Plain data: readers fill it, the
// verdict judges it, the JSON and table writers show it, and the placement
// reconcile derives pools from it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parse.h"

namespace gpu_agent {

inline constexpr uint32_t kClassVga = 0x0300;  // class >> 8
inline constexpr uint32_t kClass3d = 0x0302;
inline constexpr uint32_t kClassDisplayOther = 0x0380;  // AMD Instinct MI100/MI210, Intel Flex
inline constexpr uint32_t kClassAccelerator = 0x1200;   // AMD Instinct MI300X (of GPU vendors only)
inline constexpr uint32_t kClassBridgeOther = 0x0680;   // NVSwitch
inline constexpr uint32_t kClassPciBridge = 0x0604;

// A reason a device cannot (yet) be given to guests, or a note about it.
struct Problem {
  std::string code;     // stable: iommu_off, driver_not_vfio, group_shared, ...
  std::string message;  // what is wrong, naming the device or file
  std::string fix;      // what the operator runs or changes
  bool blocking = true;
};

// What an mdev type id is, the same on every parent that offers it: read once
// per id and shared (an 8x A40 host offers 22 ids on 256 VFs: 5,632 MdevTypes,
// 22 of these).
struct MdevTypeInfo {
  std::string id;          // "nvidia-565"
  std::string name;        // "NVIDIA A40-24Q"
  std::string device_api;  // "vfio-pci"
  std::string description;
  MdevDescription parsed;
};

// One type as one parent offers it.
struct MdevType {
  std::shared_ptr<const MdevTypeInfo> info;  // never null
  std::optional<int64_t> available_instances;
  PciAddress parent;                   // the PF (T4) or VF (A40) that offers it
  std::vector<std::string> instances;  // UUIDs of existing mdevs of this type on this parent

  const std::string& id() const { return info->id; }
  const std::string& name() const { return info->name; }
  const std::string& device_api() const { return info->device_api; }
  const std::string& description() const { return info->description; }
  const MdevDescription& parsed() const { return info->parsed; }
};

// NVIDIA's vendor-specific VFIO vGPU (vGPU 17+ on Ada/Hopper/Blackwell): no mdev bus,
// types listed per VF in nvidia/creatable_vgpu_types, chosen via current_vgpu_type.
struct VendorVgpuType {
  int64_t id = 0;
  std::string name;
  PciAddress parent;
};

struct VirtualFunction {
  PciAddress address;
  std::optional<std::string> driver;
  std::optional<int64_t> iommu_group;
  std::optional<int64_t> current_vgpu_type;  // vendor VFIO: 0 = none chosen
};

struct Sriov {
  int64_t total_vfs = 0;
  int64_t num_vfs = 0;
  std::vector<VirtualFunction> vfs;
};

struct MdevInstance {
  std::string uuid;
  std::string type_id;
  PciAddress parent;
};

struct GroupMember {
  PciAddress address;
  std::optional<uint32_t> class_code;  // 24-bit
  std::optional<uint32_t> vendor_id, product_id;
  std::optional<std::string> driver;
  bool same_card = false;   // another function of the GPU's own card (HDMI audio, USB-C)
  bool management = false;  // a known management-controller function (HPE iLO): never the card's
  std::string companion;    // why it is the card's own: "same slot", "kernel device link", ...; empty if not
};

// How a GPU would be given to guests: whole (vfio-pci passthrough), cut into
// vGPUs by nova, or not known (the verdict could not decide).
enum class GpuMode { unknown, passthrough, vgpu };
std::string_view to_string(GpuMode mode);  // "unknown", "passthrough", "vgpu" (the inventory's words)

// What the device is for. Guest: a GPU or accelerator the agent offers to guests by default
// (an SR-IOV VF of one included). Host display: the BMC's VGA (remote console) or the display
// the host's console runs on. SR-IOV PF: a GPU whose VFs are the guest devices while the PF
// stays on its host driver (AMD gim, Intel i915/xe). The last two are never in a default pool
// nor in doctor's vfio advice (a [pool:*] section may still name them).
enum class GpuRole { guest, host_display, sriov_pf };
std::string_view to_string(GpuRole role);  // "guest", "host_display", "sriov_pf"

struct Gpu {
  PciAddress address;
  std::optional<uint32_t> vendor_id, product_id, subsystem_vendor_id, subsystem_device_id;
  std::optional<std::string> vendor_name, product_name;
  uint32_t class_code = 0;  // 24-bit, e.g. 0x030200
  std::optional<uint32_t> revision;
  int64_t numa_node = -1;
  std::optional<std::string> driver;
  std::optional<int64_t> iommu_group;
  std::vector<GroupMember> group_members;  // the other members of its IOMMU group
  bool boot_vga = false;
  std::optional<Sriov> sriov;
  std::vector<MdevType> mdev_types;
  std::vector<VendorVgpuType> vgpu_types;
  std::vector<MdevInstance> mdevs;   // existing instances on this GPU or its VFs
  std::string sysfs_path;            // canonical, relative to the sysfs root
  std::optional<PciAddress> physfn;  // set on an SR-IOV VF that is a guest device: its PF
  GpuRole role = GpuRole::guest;
  std::string role_reason;  // why: the class, boot_vga and driver, or the known-hardware entry

  // verdict
  bool assignable = false;
  GpuMode mode = GpuMode::unknown;  // how it would be given to guests
  std::vector<Problem> problems;

  std::string id_pair() const;  // "10de:2330", "????:2330" when unreadable
};

struct LibvirtReport {
  std::string uri;
  bool connected = false;
  std::string error;  // why not, when not connected
  std::optional<std::string> hostname;
  std::vector<std::string> disagreements;  // one line each, naming the device and field
  int devices_compared = 0;
};

// A switch of a GPU baseboard (NVIDIA NVSwitch, class 0680): not a GPU, but an 8-GPU guest
// under HGX full passthrough needs them all.
struct FabricSwitch {
  PciAddress address;
  uint32_t vendor_id = 0, product_id = 0;
  std::optional<std::string> driver;
  std::optional<int64_t> iommu_group;
  std::string id_pair() const;  // "10de:22a3"
};

struct Inventory {
  std::string source;  // "/sys" or the fixture file
  std::string hostname;
  std::string hostname_source;  // config, libvirt, fixture, fqdn, hostname
  bool iommu_enabled = false;
  std::vector<Gpu> gpus;
  std::vector<MdevInstance> mdevs;
  std::vector<std::string> warnings;  // problems not tied to one GPU
  std::optional<LibvirtReport> libvirt;
  std::vector<FabricSwitch> nvswitches;
  // The kernel module of each bound driver (/sys/bus/pci/drivers/X/module), where the kernel
  // shows one: "nvidia-gpu" -> "i2c_nvidia_gpu". A driver without one is built in (or the
  // capture predates these links).
  std::map<std::string, std::string> driver_modules;
  std::map<std::string, std::vector<PciAddress>> driver_devices;  // every PCI device, by its driver
};

}  // namespace gpu_agent
