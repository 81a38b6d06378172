#pragma once
// `gpu-agent capture`: copy the parts of a sysfs tree the inventory reads
// (every PCI device's identity, links and vGPU files, IOMMU groups, mdevs)
// into a MemFs, to be written as a fixture a user can attach to a bug report.
// Only files from a fixed list are read: no config space, no ROMs, no serials.
#include <map>
#include <string>

#include "fs.h"

namespace gpu_agent {

struct CaptureStats {
  size_t devices = 0, files = 0, links = 0, errors = 0;
};

MemFs capture_tree(const Fs& src, CaptureStats* stats = nullptr);

}  // namespace gpu_agent
