#include "usage_schedule.h"

#include <algorithm>

namespace gpu_agent {

SteadyRead plan_steady_read(double now, double usage_refresh, double pass_gap, TreeDue tree_due,
                            std::vector<PoolUsageAge> pools) {
  SteadyRead out;
  if (!(usage_refresh > 0) || pools.empty() || tree_due == TreeDue::first) return out;
  auto deadline = [&](const PoolUsageAge& p) { return p.read_at + usage_refresh; };
  std::sort(pools.begin(), pools.end(), [&](const PoolUsageAge& a, const PoolUsageAge& b) {
    return deadline(a) != deadline(b) ? deadline(a) < deadline(b) : a.provider_uuid < b.provider_uuid;
  });
  // Fresh now, too old before the next pass. Readings that are already too old
  // (after a restart or an outage) are not caught up here, all at once, but by
  // the stand-in passes that follow, one a pass.
  std::vector<std::string> about_to_age;
  for (const auto& p : pools)
    if (deadline(p) >= now && deadline(p) < now + pass_gap) about_to_age.push_back(p.provider_uuid);
  if (tree_due == TreeDue::after_stand_in) {
    out.with_tree = about_to_age;
    return out;
  }
  // Waiting is safe while every pool can still be read in time: the next pass
  // may stand in (at most pass_gap away), and after a stand-in the one after
  // it reads the tree, so the i-th pool (earliest deadline first) gets the
  // stand-in at most (1 + 2i) gaps from now.
  bool pressed = false;
  for (size_t i = 0; i < pools.size() && !pressed; ++i)
    pressed = deadline(pools[i]) < now + static_cast<double>(1 + 2 * i) * pass_gap;
  if (!pressed) return out;
  out.stand_in = pools.front().provider_uuid;
  for (const auto& u : about_to_age)
    if (u != *out.stand_in) out.with_tree.push_back(u);
  return out;
}

}  // namespace gpu_agent
