#include "reconcile.h"

#include "uuid5.h"

#include <algorithm>
#include <cctype>

namespace gpu_agent::placement {
namespace {

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out.empty() ? "-" : out;
}

// Merge: keep what others set, drop what we set before and no longer want, add what we want.
std::set<std::string> merge_traits(const std::set<std::string>& current, const std::set<std::string>& owned_before,
                                   const std::set<std::string>& wanted) {
  std::set<std::string> out;
  for (const auto& t : current)
    if (!owned_before.count(t) || wanted.count(t)) out.insert(t);
  out.insert(wanted.begin(), wanted.end());
  return out;
}

}  // namespace

std::string pool_provider_name(const std::string& root_name, const std::string& resource_class) {
  const std::string suffix = ":gpu-pool:" + resource_class;
  std::string name = root_name + suffix;
  if (name.size() <= 200) return name;
  // keep it unique and stable: a prefix of the root plus part of its UUIDv5
  const std::string tag = "~" + uuid5(root_name).substr(0, 8);
  const size_t room = 200 > suffix.size() + tag.size() ? 200 - suffix.size() - tag.size() : 0;
  return (root_name.substr(0, room) + tag + suffix).substr(0, 200);
}

std::set<std::string> nova_managed_addresses(const TreeState& tree, const std::string& root_name) {
  std::set<std::string> out;
  const std::string prefix = root_name + "_";
  for (const auto& p : tree.providers) {
    if (!p.traits.count(kNovaManagedTrait) || p.name.rfind(prefix, 0) != 0) continue;
    std::string addr = p.name.substr(prefix.size());
    std::transform(addr.begin(), addr.end(), addr.begin(), [](unsigned char c) { return std::tolower(c); });
    out.insert(addr);
  }
  return out;
}

Plan plan_reconcile(const TreeState& current, const Desired& desired) {
  Plan plan;
  const ProviderState* root = current.root();
  if (!root) return plan;

  std::set<std::string> known_traits, known_classes;
  for (const auto& p : current.providers) {
    known_traits.insert(p.traits.begin(), p.traits.end());
    for (const auto& [rc, inv] : p.inventories) known_classes.insert(rc);
  }
  std::set<std::string> need_traits;  // the marker only where there is a pool to carry it
  if (!desired.pools.empty()) need_traits.insert(desired.marker_trait);
  need_traits.insert(desired.root_traits.begin(), desired.root_traits.end());
  for (const auto& dp : desired.pools) need_traits.insert(dp.traits.begin(), dp.traits.end());
  for (const auto& [name, ts] : desired.decorations) need_traits.insert(ts.begin(), ts.end());

  std::vector<Step> classes, traits, creates, writes, deletes;
  std::map<std::string, int64_t> gen;  // predicted generation per provider
  for (const auto& p : current.providers) gen[p.uuid] = p.generation;

  for (const auto& dp : desired.pools) {
    if (known_classes.count(dp.resource_class)) continue;
    known_classes.insert(dp.resource_class);
    classes.push_back({Step::Kind::ensure_resource_class, requests::ensure_resource_class(dp.resource_class), "",
                       "create resource class " + dp.resource_class});
  }
  for (const auto& t : need_traits)
    if (!known_traits.count(t))
      traits.push_back({Step::Kind::ensure_trait, requests::ensure_trait(t), "", "create trait " + t});

  std::set<std::string> desired_uuids;
  for (const auto& dp : desired.pools) {
    const std::string name = pool_provider_name(desired.root_name, dp.resource_class);
    const std::string uuid = uuid5(name);
    const ProviderState* cur = current.find(uuid);
    if (!cur) {
      if (const ProviderState* other = current.find_name(name)) {
        plan.notes.push_back("pool " + dp.key + ": provider name " + name + " is taken by " + other->uuid +
                             ", which the agent does not own; pool skipped (rename or delete that provider)");
        continue;
      }
    } else if (cur->parent_uuid != root->uuid) {
      plan.notes.push_back("pool " + dp.key + ": provider " + uuid + " is not a child of " + root->name +
                           "; pool skipped (delete it: `openstack resource provider delete " + uuid + "`)");
      continue;
    }
    int64_t used = 0;
    if (cur)
      if (auto u = cur->usages.find(dp.resource_class); u != cur->usages.end()) used = u->second;
    const int64_t total = std::max(dp.assignable, used);
    if (total == 0) continue;  // nothing to offer and nothing in use: not wanted (deleted below if it exists)
    desired_uuids.insert(uuid);

    if (!cur) {
      creates.push_back({Step::Kind::create_provider, requests::create_provider(name, uuid, root->uuid), uuid,
                         "create pool " + name + " under " + root->name + " for " +
                             std::to_string(dp.assignable) + " GPU(s)"});
      gen[uuid] = 0;
    }
    InventoryMap inv;
    if (cur)  // another class left over from an earlier config keeps serving what is allocated from it
      for (const auto& [rc, rec] : cur->inventories) {
        if (rc == dp.resource_class) continue;
        auto u = cur->usages.find(rc);
        if (u == cur->usages.end() || u->second == 0) continue;
        inv[rc] = Inventory{u->second, u->second, 1, u->second, 1, 1.0};
      }
    inv[dp.resource_class] = Inventory{total, total - dp.assignable, 1, total, 1, 1.0};
    if (!cur || cur->inventories != inv) {
      std::string why = "set " + dp.resource_class + " total=" + std::to_string(total) +
                        " reserved=" + std::to_string(total - dp.assignable) + " on " + name;
      if (used > dp.assignable)
        why += " (" + std::to_string(used) + " in use, only " + std::to_string(dp.assignable) + " assignable)";
      writes.push_back({Step::Kind::put_inventories, requests::put_inventories(uuid, gen[uuid], inv), uuid, why});
      ++gen[uuid];
    }
    if (used > dp.assignable) {
      plan.shrinking = true;
      plan.notes.push_back("pool " + name + " has " + std::to_string(used) + " GPU(s) allocated but only " +
                           std::to_string(dp.assignable) + " assignable; the rest is reserved and it is kept "
                           "until they are freed");
    }
    std::set<std::string> wanted = dp.traits;
    wanted.insert(desired.marker_trait);
    auto owned_it = desired.owned_traits.find(uuid);
    const std::set<std::string> owned_before = owned_it == desired.owned_traits.end() ? std::set<std::string>{}
                                                                                       : owned_it->second;
    const std::set<std::string> cur_traits = cur ? cur->traits : std::set<std::string>{};
    const std::set<std::string> merged = merge_traits(cur_traits, owned_before, wanted);
    if (merged != cur_traits) {
      writes.push_back({Step::Kind::put_traits, requests::put_traits(uuid, gen[uuid], merged), uuid,
                        "set traits of " + name + ": " + join(merged)});
      ++gen[uuid];
    }
    plan.owned_traits[uuid] = wanted;
  }

  // Root: host-level traits, merged.
  {
    auto owned_it = desired.owned_traits.find(root->uuid);
    const std::set<std::string> owned_before = owned_it == desired.owned_traits.end() ? std::set<std::string>{}
                                                                                       : owned_it->second;
    const std::set<std::string> merged = merge_traits(root->traits, owned_before, desired.root_traits);
    if (merged != root->traits) {
      std::set<std::string> added, removed;
      for (const auto& t : merged)
        if (!root->traits.count(t)) added.insert(t);
      for (const auto& t : root->traits)
        if (!merged.count(t)) removed.insert(t);
      writes.push_back({Step::Kind::put_traits, requests::put_traits(root->uuid, gen[root->uuid], merged), root->uuid,
                        "host traits on " + root->name + ": add " + join(added) + ", remove " + join(removed)});
      ++gen[root->uuid];
    }
    if (!desired.root_traits.empty()) plan.owned_traits[root->uuid] = desired.root_traits;
  }

  // nova's providers the agent decorates (vGPU pGPU providers): add its traits, keep
  // everyone else's, remove only what it added before and no longer wants.
  {
    std::set<std::string> seen;
    for (const auto& p : current.providers) {
      if (&p == root || p.traits.count(desired.marker_trait)) continue;
      auto d = desired.decorations.find(p.name);
      auto owned_it = desired.owned_traits.find(p.uuid);
      if (d == desired.decorations.end() && owned_it == desired.owned_traits.end()) continue;
      if (d != desired.decorations.end()) seen.insert(p.name);
      const std::set<std::string> wanted = d == desired.decorations.end() ? std::set<std::string>{} : d->second;
      const std::set<std::string> owned_before =
          owned_it == desired.owned_traits.end() ? std::set<std::string>{} : owned_it->second;
      const std::set<std::string> merged = merge_traits(p.traits, owned_before, wanted);
      if (merged != p.traits) {
        std::set<std::string> added, removed;
        for (const auto& t : merged)
          if (!p.traits.count(t)) added.insert(t);
        for (const auto& t : p.traits)
          if (!merged.count(t)) removed.insert(t);
        writes.push_back({Step::Kind::put_traits, requests::put_traits(p.uuid, gen[p.uuid], merged), p.uuid,
                          "vGPU traits on " + p.name + ": add " + join(added) + ", remove " + join(removed)});
        ++gen[p.uuid];
      }
      if (!wanted.empty()) plan.owned_traits[p.uuid] = wanted;
    }
    size_t missing = 0;
    std::string example;
    for (const auto& [name, ts] : desired.decorations)
      if (!seen.count(name)) {
        if (example.empty()) example = name;
        ++missing;
      }
    if (missing > 0)
      plan.notes.push_back(std::to_string(missing) + " of " + std::to_string(desired.decorations.size()) +
                           " vGPU parent devices have no provider of nova's (yet), e.g. " + example +
                           ": nova creates one per parent with room for a vGPU of an enabled type "
                           "([devices] enabled_mdev_types, see `gpu-agent nova-config`); the traits follow when it does");
  }

  // Pools the agent owns but no longer wants: delete, or keep serving what is in use.
  for (const auto& p : current.providers) {
    if (&p == root || !p.traits.count(desired.marker_trait) || desired_uuids.count(p.uuid)) continue;
    if (p.parent_uuid != root->uuid) continue;  // only our own layout: direct children of this root
    int64_t used = 0;
    for (const auto& [rc, n] : p.usages) used += n;
    if (used == 0) {
      deletes.push_back({Step::Kind::delete_provider, requests::delete_provider(p.uuid), p.uuid,
                         "delete pool " + p.name + ": no assignable GPUs and nothing allocated"});
      continue;
    }
    InventoryMap inv;
    for (const auto& [rc, n] : p.usages)
      if (n > 0) inv[rc] = Inventory{n, n, 1, n, 1, 1.0};
    if (p.inventories != inv)
      writes.push_back({Step::Kind::put_inventories, requests::put_inventories(p.uuid, gen[p.uuid], inv), p.uuid,
                        "keep pool " + p.name + " for its " + std::to_string(used) +
                            " allocated GPU(s), reserved = total so nothing new lands"});
    plan.shrinking = true;
    plan.notes.push_back("pool " + p.name + " has no assignable GPUs but " + std::to_string(used) +
                         " allocated; it is kept until they are freed");
    auto owned = desired.owned_traits.find(p.uuid);
    plan.owned_traits[p.uuid] = owned == desired.owned_traits.end() ? std::set<std::string>{desired.marker_trait}
                                                                     : owned->second;
  }

  for (auto* group : {&classes, &traits, &creates, &writes, &deletes})
    for (auto& s : *group) plan.steps.push_back(std::move(s));
  return plan;
}

std::string describe(const Step& s) { return to_string(s.request) + "\n    # " + s.why; }

}  // namespace gpu_agent::placement
