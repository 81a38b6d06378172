#pragma once
// Text fixtures: a host's sysfs as one file, for tests and bug reports.
//
// Format v1 (what `gpu-agent capture` writes), one entry a line, paths
// relative to the sysfs root, values with C escapes (\\ \n \t \xHH):
//   # gpu-agent sysfs fixture v1        comment lines start with '#'
//   @hostname compute-7                 metadata
//   d kernel/iommu_groups               a directory
//   f PATH = VALUE                      a file whose content is VALUE plus "\n"
//   F PATH = VALUE                      a file whose content is exactly VALUE
//   l PATH -> TARGET                    a symbolic link, target as stored
//   e PATH EACCES                       an entry that fails to read with that errno
//
// The older lossy capture format (`### device ADDR` blocks, link targets cut to
// their last component, see tests/data/README.md) is read as well and rebuilt
// into the same tree layout a kernel would show.
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "fs.h"
#include "result.h"

namespace gpu_agent {

struct Fixture {
  std::unique_ptr<MemFs> fs;
  std::map<std::string, std::string> meta;  // "@key value" lines
};

Result<Fixture> parse_fixture(std::string_view text, const std::string& origin);
Result<Fixture> load_fixture_file(const std::string& path);
std::string format_fixture(const MemFs& fs, const std::map<std::string, std::string>& meta);
// Write the tree below `dir` as real files, directories and symlinks, so the
// RealFs code path reads exactly what MemFs reads. Error entries become
// directories: reading them as files then fails with EISDIR, a real read error.
Result<bool> unpack_fixture(const MemFs& fs, const std::string& dir);

std::string escape_value(std::string_view raw);
Result<std::string> unescape_value(std::string_view escaped);

}  // namespace gpu_agent
