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

namespace {

const std::set<std::string> kNone;

// Traits added and removed by a merge, for a step's why: "add A,B, remove -".
std::string trait_change(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::set<std::string> added, removed;
  for (const auto& t : after)
    if (!before.count(t)) added.insert(t);
  for (const auto& t : before)
    if (!after.count(t)) removed.insert(t);
  return "add " + join(added) + ", remove " + join(removed);
}

// One plan in the making: the steps in groups (classes, traits, creates, writes,
// deletes: the order they are sent in) and each provider's predicted generation.
class Planner {
 public:
  Planner(const TreeState& current, const Desired& desired, const ProviderState& root)
      : current_(current), desired_(desired), root_(root) {
    for (const auto& p : current.providers) gen_[p.uuid] = p.generation;
  }

  void ensure_classes_and_traits();
  void pool(const DesiredPool& dp);
  void root_traits();
  void decorations();
  void unwanted_pools();
  Plan finish();

 private:
  // The traits the agent set on a provider before (from its state file).
  const std::set<std::string>& owned_before(const std::string& uuid) const {
    auto it = desired_.owned_traits.find(uuid);
    return it == desired_.owned_traits.end() ? kNone : it->second;
  }
  void write(Step::Kind kind, Request request, const std::string& uuid, std::string why) {
    writes_.push_back({kind, std::move(request), uuid, std::move(why)});
    ++gen_[uuid];
  }

  const TreeState& current_;
  const Desired& desired_;
  const ProviderState& root_;
  Plan plan_;
  std::vector<Step> classes_, traits_, creates_, writes_, deletes_;
  std::map<std::string, int64_t> gen_;  // predicted generation per provider
  std::set<std::string> desired_uuids_;
};

void Planner::ensure_classes_and_traits() {
  std::set<std::string> known_traits, known_classes;
  for (const auto& p : current_.providers) {
    known_traits.insert(p.traits.begin(), p.traits.end());
    for (const auto& [rc, inv] : p.inventories) known_classes.insert(rc);
  }
  std::set<std::string> need_traits;  // the marker only where there is a pool to carry it
  if (!desired_.pools.empty()) need_traits.insert(desired_.marker_trait);
  need_traits.insert(desired_.root_traits.begin(), desired_.root_traits.end());
  for (const auto& dp : desired_.pools) need_traits.insert(dp.traits.begin(), dp.traits.end());
  for (const auto& [name, ts] : desired_.decorations) need_traits.insert(ts.begin(), ts.end());

  for (const auto& dp : desired_.pools) {
    if (known_classes.count(dp.resource_class)) continue;
    known_classes.insert(dp.resource_class);
    classes_.push_back({Step::Kind::ensure_resource_class, requests::ensure_resource_class(dp.resource_class), "",
                        "create resource class " + dp.resource_class});
  }
  for (const auto& t : need_traits)
    if (!known_traits.count(t))
      traits_.push_back({Step::Kind::ensure_trait, requests::ensure_trait(t), "", "create trait " + t});
}

void Planner::pool(const DesiredPool& dp) {
  const std::string name = pool_provider_name(desired_.root_name, dp.resource_class);
  const std::string uuid = uuid5(name);
  const ProviderState* cur = current_.find(uuid);
  if (!cur) {
    if (const ProviderState* other = current_.find_name(name)) {
      plan_.notes.push_back("pool " + dp.key + ": provider name " + name + " is taken by " + other->uuid +
                            ", which the agent does not own; pool skipped (rename or delete that provider)");
      return;
    }
  } else if (cur->parent_uuid != root_.uuid) {
    plan_.notes.push_back("pool " + dp.key + ": provider " + uuid + " is not a child of " + root_.name +
                          "; pool skipped (delete it: `openstack resource provider delete " + uuid + "`)");
    return;
  }
  int64_t used = 0;
  if (cur)
    if (auto u = cur->usages.find(dp.resource_class); u != cur->usages.end()) used = u->second;
  const int64_t total = std::max(dp.assignable, used);
  if (total == 0) return;  // nothing to offer and nothing in use: not wanted (deleted below if it exists)
  desired_uuids_.insert(uuid);

  if (!cur) {
    creates_.push_back(
        {Step::Kind::create_provider, requests::create_provider(name, uuid, root_.uuid), uuid,
         "create pool " + name + " under " + root_.name + " for " + std::to_string(dp.assignable) + " GPU(s)"});
    gen_[uuid] = 0;
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
    write(Step::Kind::put_inventories, requests::put_inventories(uuid, gen_[uuid], inv), uuid, why);
  }
  if (used > dp.assignable) {
    plan_.shrinking = true;
    plan_.notes.push_back("pool " + name + " has " + std::to_string(used) + " GPU(s) allocated but only " +
                          std::to_string(dp.assignable) +
                          " assignable; the rest is reserved and it is kept "
                          "until they are freed");
  }
  std::set<std::string> wanted = dp.traits;
  wanted.insert(desired_.marker_trait);
  const std::set<std::string> cur_traits = cur ? cur->traits : std::set<std::string>{};
  const std::set<std::string> merged = merge_traits(cur_traits, owned_before(uuid), wanted);
  if (merged != cur_traits)
    write(Step::Kind::put_traits, requests::put_traits(uuid, gen_[uuid], merged), uuid,
          "set traits of " + name + ": " + join(merged));
  plan_.owned_traits[uuid] = wanted;
}

// Root: host-level traits, merged.
void Planner::root_traits() {
  const std::set<std::string> merged = merge_traits(root_.traits, owned_before(root_.uuid), desired_.root_traits);
  if (merged != root_.traits)
    write(Step::Kind::put_traits, requests::put_traits(root_.uuid, gen_[root_.uuid], merged), root_.uuid,
          "host traits on " + root_.name + ": " + trait_change(root_.traits, merged));
  if (!desired_.root_traits.empty()) plan_.owned_traits[root_.uuid] = desired_.root_traits;
}

// nova's providers the agent decorates (vGPU pGPU providers): add its traits, keep
// everyone else's, remove only what it added before and no longer wants.
void Planner::decorations() {
  std::set<std::string> seen;
  for (const auto& p : current_.providers) {
    if (&p == &root_ || p.traits.count(desired_.marker_trait)) continue;
    auto d = desired_.decorations.find(p.name);
    const bool decorated = d != desired_.decorations.end();
    if (!decorated && !desired_.owned_traits.count(p.uuid)) continue;
    if (decorated) seen.insert(p.name);
    const std::set<std::string>& wanted = decorated ? d->second : kNone;
    const std::set<std::string> merged = merge_traits(p.traits, owned_before(p.uuid), wanted);
    if (merged != p.traits)
      write(Step::Kind::put_traits, requests::put_traits(p.uuid, gen_[p.uuid], merged), p.uuid,
            "vGPU traits on " + p.name + ": " + trait_change(p.traits, merged));
    if (!wanted.empty()) plan_.owned_traits[p.uuid] = wanted;
  }
  size_t missing = 0;
  std::string example;
  for (const auto& [name, ts] : desired_.decorations)
    if (!seen.count(name)) {
      if (example.empty()) example = name;
      ++missing;
    }
  const size_t total = desired_.decorations.size(), have = total - missing;
  if (missing > 0 && desired_.decorations_needed > 0 && have >= desired_.decorations_needed)
    plan_.notes.push_back("nova has a provider for " + std::to_string(have) + " of " + std::to_string(total) +
                          " vGPU parent devices: with [mdev_<type>] max_instances (nova 2023.2 and later) it "
                          "makes them only for the parents the layouts' capacity fills (" +
                          std::to_string(desired_.decorations_needed) +
                          " here), which is normal; the traits follow if it makes more");
  else if (missing > 0)
    plan_.notes.push_back(
        std::to_string(missing) + " of " + std::to_string(total) +
        " vGPU parent devices have no provider of nova's (yet), e.g. " + example +
        ": nova creates one per parent with room for a vGPU of an enabled type "
        "([devices] enabled_mdev_types, see `gpu-agent nova-config`); the traits follow when it does");
}

// Pools the agent owns but no longer wants: delete, or keep serving what is in use.
void Planner::unwanted_pools() {
  for (const auto& p : current_.providers) {
    if (&p == &root_ || !p.traits.count(desired_.marker_trait) || desired_uuids_.count(p.uuid)) continue;
    if (p.parent_uuid != root_.uuid) continue;  // only our own layout: direct children of this root
    int64_t used = 0;
    for (const auto& [rc, n] : p.usages) used += n;
    if (used == 0) {
      deletes_.push_back({Step::Kind::delete_provider, requests::delete_provider(p.uuid), p.uuid,
                          "delete pool " + p.name + ": no assignable GPUs and nothing allocated"});
      continue;
    }
    InventoryMap inv;
    for (const auto& [rc, n] : p.usages)
      if (n > 0) inv[rc] = Inventory{n, n, 1, n, 1, 1.0};
    if (p.inventories != inv)
      writes_.push_back({Step::Kind::put_inventories, requests::put_inventories(p.uuid, gen_[p.uuid], inv), p.uuid,
                         "keep pool " + p.name + " for its " + std::to_string(used) +
                             " allocated GPU(s), reserved = total so nothing new lands"});
    plan_.shrinking = true;
    plan_.notes.push_back("pool " + p.name + " has no assignable GPUs but " + std::to_string(used) +
                          " allocated; it is kept until they are freed");
    auto owned = desired_.owned_traits.find(p.uuid);
    plan_.owned_traits[p.uuid] = owned == desired_.owned_traits.end() ? std::set<std::string>{desired_.marker_trait}
                                                                      : owned->second;
  }
}

Plan Planner::finish() {
  for (auto* group : {&classes_, &traits_, &creates_, &writes_, &deletes_})
    for (auto& s : *group) plan_.steps.push_back(std::move(s));
  return std::move(plan_);
}

}  // namespace

Plan plan_reconcile(const TreeState& current, const Desired& desired) {
  const ProviderState* root = current.root();
  if (!root) return {};
  Planner planner(current, desired, *root);
  planner.ensure_classes_and_traits();
  for (const auto& dp : desired.pools) planner.pool(dp);
  planner.root_traits();
  planner.decorations();
  planner.unwanted_pools();
  return planner.finish();
}

namespace {

bool name_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// Every CUSTOM_ name in a text, whole words only.
std::set<std::string> custom_names_in(std::string_view text) {
  std::set<std::string> out;
  for (size_t at = text.find("CUSTOM_"); at != std::string_view::npos; at = text.find("CUSTOM_", at + 1)) {
    if (at > 0 && name_char(text[at - 1])) continue;
    size_t end = at;
    while (end < text.size() && name_char(text[end])) ++end;
    out.insert(std::string(text.substr(at, end - at)));
  }
  return out;
}

std::string created_name(const Step& ensure) { return ensure.request.path.substr(ensure.request.path.rfind('/') + 1); }

}  // namespace

std::vector<Step> creations_for(const Step& refused, std::string_view error, const Plan& plan) {
  Step::Kind kind;
  if (refused.kind == Step::Kind::put_traits) kind = Step::Kind::ensure_trait;
  else if (refused.kind == Step::Kind::put_inventories) kind = Step::Kind::ensure_resource_class;
  else return {};
  auto carried = [&](const std::string& name) {
    return refused.request.body.find('"' + name + '"') != std::string::npos;
  };
  auto step_for = [&](const std::string& name) -> Step {
    if (kind == Step::Kind::ensure_trait)
      return {kind, requests::ensure_trait(name), "", "create trait " + name + " (placement did not have it)"};
    return {kind, requests::ensure_resource_class(name), "",
            "create resource class " + name + " (placement did not have it)"};
  };
  std::vector<Step> out;
  for (const auto& name : custom_names_in(error))
    if (carried(name)) out.push_back(step_for(name));
  if (!out.empty()) return out;
  for (const auto& s : plan.steps)
    if (s.kind == kind && carried(created_name(s))) out.push_back(step_for(created_name(s)));
  return out;
}

std::string describe(const Step& s) { return to_string(s.request) + "\n    # " + s.why; }

}  // namespace gpu_agent::placement
