#pragma once
// Which read a steady-state pass sends, so that it is one request and `used`
// never gets older than [agent] usage_refresh. Pure: the clock and the pools'
// reading times are arguments (ARCHITECTURE.md, "A report pass", step 4).
//
// Placement moves a pool's generation when an allocation is made but not when
// one is deleted, so the pools' usages are read again before they are
// usage_refresh old. A `GET /resource_providers/{pool}/usages` answers the
// pool's generation too, so on a pass where a pool's usages are due that GET
// stands in for the tree GET: the pool's generation is still checked, and the
// rest of the tree is checked by the next pass, which is always a tree GET
// (a change elsewhere in the tree is seen at most one pass later than with a
// tree GET every pass). Pools are taken earliest deadline first, one per
// stand-in pass, and a stand-in is sent only when waiting for a later one
// would let some pool get too old, so most passes stay tree GETs.
#include <optional>
#include <string>
#include <vector>

namespace gpu_agent {

// Whether this pass must read the tree, and why.
enum class TreeDue {
  no,              // the last pass read it
  after_stand_in,  // the last pass stood in: this one reads the rest of the tree
  // The process's first pass, or the pass after one that failed (an outage):
  // the tree only, however old the readings; they are caught up by the
  // stand-ins that follow, one a pass, so a fleet that restarts or finds
  // Placement back together adds no request to anyone's first pass.
  first,
};

struct PoolUsageAge {
  std::string provider_uuid;
  double read_at = 0;  // when its usages were last read (seconds, same clock as `now`)
};

struct SteadyRead {
  // Read this pool's usages instead of the tree (its generation must be the
  // last pass's), or nothing: the tree GET.
  std::optional<std::string> stand_in;
  // In the same pass, also read these pools' usages: only when there are
  // more pools than stand-in passes can serve (one every two passes) and one
  // would otherwise get older than usage_refresh before the next pass.
  std::vector<std::string> with_tree;
};

// now: this pass's time; usage_refresh: how old `used` may get (<= 0: never
// re-read, tree GET only); pass_gap: the longest wait to the next pass
// (interval x (1 + jitter)); tree_due: whether and why this pass must read the tree.
SteadyRead plan_steady_read(double now, double usage_refresh, double pass_gap, TreeDue tree_due,
                            std::vector<PoolUsageAge> pools);

}  // namespace gpu_agent
