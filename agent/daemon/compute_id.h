#pragma once
// nova's compute node identity file. From 2023.1 (Antelope) nova-compute keeps
// its compute node's UUID in `compute_id` under nova's [DEFAULT] state_path
// (/var/lib/nova on Debian; nova/virt/node.py writes it once, the UUID alone,
// in the canonical form). With the libvirt driver that UUID is the compute
// node provider's in Placement, so the agent can read the tree by it and skip
// the lookup by name. It is only a hint: the report pass checks it against the
// tree (a root provider of this compute node's name) and looks the node up by
// name when the file is missing (nova before 2023.1), unreadable, not a UUID,
// or names another provider.
#include <optional>
#include <string>
#include <string_view>

namespace gpu_agent {

// The UUID in a compute_id file's text, lower case, 8-4-4-4-12; nullopt when
// it is none. As nova reads it: the first 40 characters, whitespace around
// them ignored; braces, a urn:uuid: prefix and missing hyphens accepted.
std::optional<std::string> parse_compute_id(std::string_view text);

struct ComputeId {
  enum class Kind { found, absent, unusable } kind = Kind::absent;
  std::string uuid;  // found
  std::string why;   // absent or unusable: for the log line
};

// Reads PATH ("" = not configured: absent).
ComputeId read_compute_id(const std::string& path);

}  // namespace gpu_agent
