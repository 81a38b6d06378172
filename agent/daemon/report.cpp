#include "report.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "compute_id.h"
#include "json_read.h"
#include "responses.h"
#include "usage_schedule.h"

namespace gpu_agent {

using placement::Outcome;

struct Reporter::Snapshot {
  std::map<std::string, int64_t> generations;  // every provider in the tree
  std::string desired;                         // a signature of what was wanted
  std::string root_name;                       // the compute node's name
  bool shrinking = false;                      // usages matter: no one-GET shortcut
};

// How applying a plan ended.
struct Reporter::Applied {
  enum class Kind { done, conflict, stopped, failed } kind = Kind::done;
  PassOutcome failure;   // for failed
  std::string conflict;  // for conflict: the step and placement's answer
};

namespace {

constexpr int kMaxConflictRetries = 5;

std::string signature(const placement::Desired& d) {
  std::string s = d.root_name + "|" + d.marker_trait + "|";
  for (const auto& t : d.root_traits) s += t + ",";
  for (const auto& p : d.pools) {
    s += "|" + p.resource_class + "=" + std::to_string(p.assignable) + ":";
    for (const auto& t : p.traits) s += t + ",";
  }
  for (const auto& [n, ts] : d.decorations) {
    s += "|d:" + n + ":";
    for (const auto& t : ts) s += t + ",";
  }
  for (const auto& [u, ts] : d.owned_traits) {
    s += "|" + u + ":";
    for (const auto& t : ts) s += t + ",";
  }
  return s;
}

// The provider generation in a write's answer: "resource_provider_generation"
// (inventories, traits) or "generation" (a created provider).
std::optional<int64_t> generation_in(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  for (const char* k : {"resource_provider_generation", "generation"})
    if (auto g = json::member<int64_t>(d, k, "")) return *g;
  return std::nullopt;
}

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

PassOutcome ok(std::string m) { return {PassOutcome::Kind::ok, std::move(m), false, {}, {}}; }
PassOutcome retry(std::string m) { return {PassOutcome::Kind::retry, std::move(m), false, {}, {}}; }
PassOutcome fatal(std::string m, bool config = false) {
  return {PassOutcome::Kind::fatal, std::move(m), config, {}, {}};
}

std::map<std::string, int64_t> generations_of(const std::vector<placement::Provider>& listed) {
  std::map<std::string, int64_t> gens;
  for (const auto& p : listed) gens[p.uuid] = p.generation;
  return gens;
}

// nova's own PCI-in-placement providers win: no pool for those devices.
// Returns one note per device left out.
std::vector<std::string> leave_nova_devices(const placement::TreeState& tree, const std::string& host,
                                            placement::Desired& desired) {
  std::vector<std::string> notes;
  const auto nova_owned = placement::nova_managed_addresses(tree, host);
  if (nova_owned.empty()) return notes;
  for (auto& dp : desired.pools) {
    std::vector<std::string> keep;
    for (const auto& a : dp.devices) {
      if (nova_owned.count(a))
        notes.push_back(a + " is reported by nova itself ([pci] report_in_placement); no pool for it");
      else keep.push_back(a);
    }
    dp.devices = keep;
    dp.assignable = static_cast<int64_t>(keep.size());
  }
  return notes;
}

}  // namespace

Reporter::Reporter(AgentConfig config, ReportSources sources, Log& log)
    : config_(std::move(config)), sources_(std::move(sources)), log_(log) {}

Reporter::~Reporter() = default;

void Reporter::reload(AgentConfig config) {
  config_ = std::move(config);
  host_cache_ = HostCache{};
  session_ = PlacementSession{};
  root_uuid_.reset();
  root_from_state_ = false;
  root_from_compute_id_ = false;
  compute_id_distrusted_ = false;
  compute_id_said_ = false;
  tree_due_ = TreeDue::first;
  last_.reset();
  readings_.clear();
}

double Reporter::now() const { return clock_ ? clock_() : unix_now(); }

Result<bool> Reporter::connect() {
  if (session_.client) return true;
  // A stop signal abandons the request in flight (the daemon's SIGTERM).
  auto s = open_placement(config_.placement, log_, [this] { return should_stop_ && should_stop_(); });
  if (!s) return s.error();
  session_ = std::move(*s);
  return true;
}

Result<placement::InventoryMap> Reporter::root_inventory(const std::string& compute_node) {
  if (auto c = connect(); !c) return c.error();
  auto& pc = *session_.client;
  placement::ProviderQuery q;
  q.name = compute_node;
  auto found = pc.list_providers(q);
  if (!found) return with_context("looking up compute node " + compute_node, found.error());
  if (found->empty())
    return make_error(ErrorKind::not_found, "compute node provider '" + compute_node +
                                                "' is not in placement: nova-compute creates it on start; name "
                                                "another with --hostname");
  auto inv = pc.get_inventories(found->front().uuid);
  if (!inv) return with_context("reading the inventory of " + compute_node, inv.error());
  return inv->inventories;
}

PassOutcome Reporter::outcome_for(const Error& e, const std::string& what) {
  const std::string m = what.empty() ? e.message : what + ": " + e.message;
  switch (placement::outcome_of(e)) {
    case Outcome::unauthorized:
    case Outcome::forbidden: return fatal(m);
    default:
      // unreachable, 5xx, or a request placement refused: log it and back off; it will not storm
      return retry(m);
  }
}

// Once per process: the owned traits, and the resume point when it is this
// compute node's (the first pass is then the steady-state GET).
void Reporter::load_state_once(const std::string& compute_node) {
  if (state_loaded_) return;
  auto st = load_state(config_.state_dir + "/state.json");
  if (st) state_ = *st;
  else {
    log_.warning(st.error().message + "; rebuilding it from placement (the pools carrying " + config_.marker_trait +
                 " are the agent's, with their traits)");
    rebuild_state_ = true;
  }
  state_loaded_ = true;
  if (state_.resume && state_.resume->compute_node == compute_node && !root_uuid_) {
    const ResumePoint& r = *state_.resume;
    root_uuid_ = r.root_uuid;
    root_from_state_ = true;
    auto snap = std::make_unique<Snapshot>();
    snap->generations = r.generations;
    snap->desired = r.desired;
    snap->root_name = r.compute_node;
    last_ = std::move(snap);
    readings_ = r.readings;
    log_.debug("resuming from " + config_.state_dir + "/state.json: compute node " + r.root_uuid);
  }
}

// The resume point for the next process, saved when it changed.
void Reporter::save_resume_point() {
  std::optional<ResumePoint> next;
  if (last_ && root_uuid_ && !last_->shrinking)
    next = ResumePoint{last_->root_name, *root_uuid_, last_->desired, last_->generations, readings_};
  if (next == state_.resume) return;
  AgentState s = state_;
  s.resume = next;
  if (auto saved = save_state(config_.state_dir + "/state.json", s); !saved)
    log_.debug(saved.error().message + " (the resume point; a restart reads the tree in full)");
  state_.resume = std::move(next);
}

// state.json was lost (torn, empty, not a file): the providers with the
// marker trait are the agent's, and so are their CUSTOM_ traits. Written back
// at the end of the pass.
void Reporter::rebuild_state(const placement::TreeState& tree) {
  rebuild_state_ = false;
  state_dirty_ = true;
  size_t pools = 0;
  for (const auto& p : tree.providers) {
    if (p.uuid == *root_uuid_ || !p.traits.count(config_.marker_trait)) continue;
    auto& owned = state_.owned_traits[p.uuid];
    for (const auto& t : p.traits)
      if (t.rfind("CUSTOM_", 0) == 0) owned.insert(t);
    ++pools;
  }
  log_.info("state rebuilt from placement: " + std::to_string(pools) + " pool provider(s) carry " +
            config_.marker_trait);
}

// The compute node provider nova created: the UUID in nova's compute_id file
// (nova 2023.1+; checked against the tree the pass reads next:
// check_compute_id_root), else by its hypervisor hostname: false while nova
// has not created it yet.
Result<bool> Reporter::find_root(const Inventory& host) {
  if (root_uuid_) return true;
  if (!compute_id_distrusted_) {
    const ComputeId id = read_compute_id(config_.nova_compute_id);
    if (id.kind == ComputeId::Kind::found) {
      root_uuid_ = id.uuid;
      root_from_compute_id_ = true;
      log_.info("compute node " + host.hostname + ": reading its tree by nova's compute_id " + id.uuid + " (" +
                config_.nova_compute_id + "), not by its name");
      return true;
    }
    if (!compute_id_said_ && !config_.nova_compute_id.empty()) {
      compute_id_said_ = true;
      const std::string then = "; looking compute node " + host.hostname + " up by name";
      if (id.kind == ComputeId::Kind::absent) log_.info(id.why + then);
      else log_.warning(id.why + then + " (nova's identity file is only a hint; [agent] nova_compute_id)");
    }
  }
  return find_root_by_name(host);
}

Result<bool> Reporter::find_root_by_name(const Inventory& host) {
  placement::ProviderQuery q;
  q.name = host.hostname;
  auto found = session_.client->list_providers(q);
  if (!found) return found.error();
  if (found->empty()) return false;
  root_uuid_ = found->front().uuid;
  return true;
}

namespace {
std::string not_in_placement_yet(const Inventory& host) {
  return "compute node provider '" + host.hostname + "' (hostname from " + host.hostname_source +
         ") is not in placement yet: nova-compute creates it on start; if nova uses another name, set "
         "[agent] compute_node_name";
}
}  // namespace

// The tree read by nova's compute_id: trusted when that provider is a root of
// this compute node's name. Else (a copied or stale file, another driver's
// node) the node is looked up by name, the file is not trusted again until a
// reload, and the pass reads the tree found (nullopt: go on; else the pass's
// outcome).
std::optional<PassOutcome> Reporter::check_compute_id_root(const std::vector<placement::Provider>& listed,
                                                           const Inventory& host) {
  root_from_compute_id_ = false;
  auto it = std::find_if(listed.begin(), listed.end(), [&](const auto& p) { return p.uuid == *root_uuid_; });
  std::string wrong;
  if (it == listed.end()) wrong = "is not in the tree Placement answered for it";
  else if (it->parent_uuid) wrong = "names provider '" + it->name + "', which is not a compute node (it has a parent)";
  else if (it->name != host.hostname) wrong = "names provider '" + it->name + "', not this compute node";
  if (wrong.empty()) return std::nullopt;
  compute_id_distrusted_ = true;
  log_.warning("nova's compute_id (" + config_.nova_compute_id + ": " + *root_uuid_ + ") " + wrong +
               "; looking compute node " + host.hostname + " up by name, and not trusting the file until a reload");
  root_uuid_.reset();
  auto found = find_root_by_name(host);
  if (!found) return outcome_for(found.error(), "looking up the compute node");
  if (!*found) return retry(not_in_placement_yet(host));
  return std::nullopt;
}

// nova's compute_id names no provider in Placement: nova has not created it
// yet (a first start), or the file is stale (the node was registered again
// under another UUID). The name decides; the file is kept for the next pass
// unless the name found another provider.
std::optional<PassOutcome> Reporter::compute_id_gone(const Inventory& host) {
  root_from_compute_id_ = false;
  const std::string id = *root_uuid_;
  root_uuid_.reset();
  auto found = find_root_by_name(host);
  if (!found) return outcome_for(found.error(), "looking up the compute node");
  if (!*found) return retry(not_in_placement_yet(host));
  compute_id_distrusted_ = true;
  log_.warning("nova's compute_id (" + config_.nova_compute_id + ": " + id +
               ") names no provider in Placement; compute node " + host.hostname + " is " + *root_uuid_ +
               " by name: using that, and not trusting the file until a reload");
  return std::nullopt;
}

// What placement should hold for this host (before nova's own PCI providers
// are taken out, which needs the tree's traits).
placement::Desired Reporter::desired_for(const LoadedHost& host) const {
  placement::Desired desired;
  desired.root_name = host.inventory.hostname;
  desired.marker_trait = config_.marker_trait;
  if (config_.host_traits_owner == TraitsOwner::agent)
    desired.root_traits.insert(config_.host_traits.begin(), config_.host_traits.end());
  desired.owned_traits = state_.owned_traits;
  if (config_.host_traits_owner == TraitsOwner::nova) {
    // Handed over to nova's provider config: forget having set them, so they are
    // kept like anybody else's and never removed, not even for a moment.
    if (auto it = desired.owned_traits.find(*root_uuid_); it != desired.owned_traits.end())
      for (const auto& t : config_.host_traits) it->second.erase(t);
  }
  for (const auto& p : host.pools) {
    placement::DesiredPool dp;
    dp.key = p.key;
    dp.resource_class = p.resource_class;
    dp.assignable = static_cast<int64_t>(p.assignable.size());
    dp.traits.insert(p.traits.begin(), p.traits.end());
    for (const auto& a : p.assignable) dp.devices.push_back(a.to_string());
    desired.pools.push_back(std::move(dp));
  }
  // vGPU: traits on nova's pGPU providers of the declared layouts
  for (const auto& l : host.layouts) {
    for (const auto& parent : l.parents)
      desired.decorations[nova_pgpu_provider_name(desired.root_name, parent.address)].insert(l.traits.begin(),
                                                                                             l.traits.end());
    // nova-config writes max_instances = capacity: nova fills at most that many parents
    const size_t parents = l.parents.size();
    desired.decorations_needed += l.capacity > 0 ? std::min(parents, static_cast<size_t>(l.capacity)) : parents;
  }
  return desired;
}

// Steady state: the tree is as the last pass left it and nothing here changed.
bool Reporter::unchanged_since_last(const std::map<std::string, int64_t>& generations,
                                    const placement::Desired& desired) const {
  return last_ && !last_->shrinking && last_->generations == generations && last_->desired == signature(desired);
}

// Everything the plan needs: traits of every child; inventories and usages
// only of our pools (marker trait, or our naming after a crash between create
// and the traits write). Foreign children need only traits, and the root only
// when the plan may change them (root_traits_matter).
Result<placement::TreeState> Reporter::read_tree(const std::vector<placement::Provider>& listed,
                                                 const placement::Desired& desired) {
  auto& pc = *session_.client;
  placement::TreeState tree;
  for (const auto& p : listed) {
    placement::ProviderState s;
    s.uuid = p.uuid;
    s.name = p.name;
    s.parent_uuid = p.parent_uuid.value_or("");
    s.generation = p.generation;
    if (p.uuid == *root_uuid_ && !root_traits_matter(desired)) {
      tree.providers.insert(tree.providers.begin(), std::move(s));
      continue;
    }
    auto traits = pc.get_traits(p.uuid);
    if (!traits) return with_context("reading traits of " + p.name, traits.error());
    s.traits = traits->traits;
    s.generation = traits->generation;
    if (is_own_pool(p.uuid, p.name, s.traits)) {
      auto invs = pc.get_inventories(p.uuid);
      if (!invs) return with_context("reading inventory of " + p.name, invs.error());
      s.inventories = invs->inventories;
      auto use = pc.get_usages(p.uuid);
      if (!use) return with_context("reading usages of " + p.name, use.error());
      s.usages = use->usages;
    }
    if (p.uuid == *root_uuid_) tree.providers.insert(tree.providers.begin(), std::move(s));
    else tree.providers.push_back(std::move(s));
  }
  return tree;
}

// The root's traits change only when the agent wants some there (host_traits
// it owns) or set some before that may have to go; otherwise the plan leaves
// the root alone and its traits need not be read (a GET less on every node's
// first pass, and whenever nova-compute's update moved the root's generation).
bool Reporter::root_traits_matter(const placement::Desired& desired) const {
  if (!desired.root_traits.empty()) return true;
  auto owned = desired.owned_traits.find(*root_uuid_);
  return owned != desired.owned_traits.end() && !owned->second.empty();
}

bool Reporter::is_own_pool(const std::string& uuid, const std::string& name,
                           const std::set<std::string>& traits) const {
  return uuid != *root_uuid_ &&
         (traits.count(config_.marker_trait) > 0 || name.find(":gpu-pool:") != std::string::npos);
}

// A full read: Placement's values of every pool the agent owns, usages included.
void Reporter::take_readings(const placement::TreeState& tree) {
  const double t = now();
  readings_.clear();
  for (const auto& s : tree.providers) {
    if (!is_own_pool(s.uuid, s.name, s.traits)) continue;
    for (const auto& [rc, inv] : s.inventories) {
      Reading& r = readings_[rc];
      r.provider_uuid = s.uuid;
      r.total = inv.total;
      r.reserved = inv.reserved;
      auto u = s.usages.find(rc);
      r.used = u == s.usages.end() ? 0 : u->second;
      r.used_read_at = t;
    }
  }
}

// A write placement accepted: an inventory as stored (the answer carries it),
// or a pool gone.
void Reporter::note_written(const placement::Step& step, const std::string& answer) {
  if (step.kind == placement::Step::Kind::delete_provider) {
    std::erase_if(readings_, [&](const auto& kv) { return kv.second.provider_uuid == step.provider_uuid; });
    return;
  }
  if (step.kind != placement::Step::Kind::put_inventories) return;
  auto stored = placement::parse::inventories(answer);
  if (!stored) return;  // the next full read has it
  std::erase_if(readings_, [&](const auto& kv) {
    return kv.second.provider_uuid == step.provider_uuid && !stored->inventories.count(kv.first);
  });
  for (const auto& [rc, inv] : stored->inventories) {
    Reading& r = readings_[rc];
    r.provider_uuid = step.provider_uuid;
    r.total = inv.total;
    r.reserved = inv.reserved;
    if (!r.used) {  // a pool created by this pass: nothing can be allocated from it yet
      r.used = 0;
      r.used_read_at = now();
    }
  }
}

// Placement moves a pool's generation when an allocation is made, not when one
// is deleted, so usages are read again before they are [agent] usage_refresh
// old, one pool per pass, each GET standing in for the tree GET on its pass
// (plan_steady_read: usage_schedule.h). Returns false when check_generation
// and a pool's generation is not the last pass's (something changed: read the
// tree); errors name the pool (404: it is gone).
Result<bool> Reporter::read_usages(const std::vector<std::string>& pools, bool check_generation) {
  const double t = now();
  for (const auto& uuid : pools) {
    auto use = session_.client->get_usages(uuid);
    if (!use) return with_context("reading usages of pool provider " + uuid, use.error());
    if (check_generation) {
      auto g = last_->generations.find(uuid);
      if (g == last_->generations.end() || g->second != use->generation) return false;
    }
    for (auto& [rc, r] : readings_) {
      if (r.provider_uuid != uuid) continue;
      auto u = use->usages.find(rc);
      r.used = u == use->usages.end() ? 0 : u->second;
      r.used_read_at = t;
    }
  }
  if (!pools.empty()) save_resume_point();
  return true;
}

// A steady-state pass whose one request is a pool's usages GET instead of the
// tree GET, when that pool's usages are due and the last pass read the tree
// (nullopt: read the tree). The pool's generation must be the last pass's;
// the rest of the tree is checked by the next pass.
std::optional<PassOutcome> Reporter::stand_in(const LoadedHost& host) {
  usages_with_tree_.clear();
  if (!last_ || last_->shrinking || !(config_.usage_refresh > 0)) return std::nullopt;
  std::map<std::string, double> oldest;  // pool provider -> its oldest reading
  for (const auto& [rc, r] : readings_) {
    if (r.provider_uuid.empty() || !last_->generations.count(r.provider_uuid)) continue;
    auto [it, fresh] = oldest.emplace(r.provider_uuid, r.used_read_at);
    if (!fresh) it->second = std::min(it->second, r.used_read_at);
  }
  std::vector<PoolUsageAge> ages;
  for (const auto& [uuid, at] : oldest) ages.push_back({uuid, at});
  const SteadyRead plan = plan_steady_read(now(), config_.usage_refresh, config_.interval * (1 + config_.jitter),
                                           tree_due_, ages);
  usages_with_tree_ = plan.with_tree;
  if (!plan.stand_in) return std::nullopt;
  if (last_->desired != signature(desired_for(host))) return std::nullopt;  // the host changed: read the tree
  std::vector<std::string> pools{*plan.stand_in};
  pools.insert(pools.end(), plan.with_tree.begin(), plan.with_tree.end());
  usages_with_tree_.clear();
  auto same = read_usages(pools, true);
  if (!same && placement::outcome_of(same.error()) != Outcome::not_found) return outcome_for(same.error(), "");
  if (!same || !*same) return std::nullopt;  // the pool is gone, or its generation moved: read the tree
  PassOutcome o = ok("no changes");
  o.stats.quick = true;
  return o;
}

// The host and its pools for the metrics and the status: GPUs by verdict,
// problems by code, and per pool the host's count next to placement's.
HostObservation Reporter::observe(const LoadedHost& host) const {
  HostObservation h;
  h.compute_node = host.inventory.hostname;
  for (const auto& g : host.inventory.gpus) {
    ++h.gpus[{std::string(to_string(g.mode)), g.assignable ? "assignable" : "not_assignable"}];
    for (const auto& p : g.problems) ++h.problems[{p.code, p.blocking}];
  }
  h.warnings = static_cast<int64_t>(host.inventory.warnings.size());
  std::set<std::string> seen;
  auto with_reading = [&](PoolObservation& po) {
    auto r = readings_.find(po.resource_class);
    if (r == readings_.end()) return;
    po.total = r->second.total;
    po.reserved = r->second.reserved;
    po.used = r->second.used;
    po.used_read_at = r->second.used_read_at;
  };
  for (const auto& p : host.pools) {
    PoolObservation po;
    po.key = p.key;
    po.resource_class = p.resource_class;
    po.assignable = static_cast<int64_t>(p.assignable.size());
    po.unavailable = static_cast<int64_t>(p.unavailable.size());
    with_reading(po);
    seen.insert(p.resource_class);
    h.pools.push_back(std::move(po));
  }
  for (const auto& [rc, r] : readings_) {
    if (seen.count(rc)) continue;
    PoolObservation po;  // in placement only: kept while allocated, or about to go
    po.resource_class = rc;
    po.key = rc;
    std::transform(po.key.begin(), po.key.end(), po.key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    po.on_host = false;
    with_reading(po);
    h.pools.push_back(std::move(po));
  }
  return h;
}

// The pass's notes; the ones that are new since the last pass are logged.
std::set<std::string> Reporter::notes_for(const std::vector<std::string>& excluded, const placement::Plan& plan,
                                          const LoadedHost& host) {
  std::set<std::string> notes(excluded.begin(), excluded.end());
  notes.insert(plan.notes.begin(), plan.notes.end());
  for (const auto& w : host.inventory.warnings) notes.insert(w);
  for (const auto& p : host.pools)
    for (const auto& a : p.unavailable)
      notes.insert("pool " + p.key + ": " + a.to_string() + " is not assignable now (see `gpu-agent inventory`)");
  for (const auto& n : notes)
    if (!last_notes_.count(n)) log_.warning(n);
  last_notes_ = notes;
  return notes;
}

void Reporter::print_plan(std::ostream& out, const std::string& host, const placement::Plan& plan,
                          const std::set<std::string>& notes) const {
  out << "# compute node " << host << " (" << *root_uuid_ << "), microversion "
      << session_.client->microversion()->str() << "\n";
  if (plan.steps.empty()) out << "# no changes: placement matches this host\n";
  for (const auto& s : plan.steps) out << placement::describe(s) << "\n";
  for (const auto& n : notes) out << "# note: " << n << "\n";
}

// The plan's requests in order. Generations are tracked from the answers, so
// the next pass's one-GET check needs no re-read now. Resource classes and
// traits are created only when a write is refused for lacking them
// (placement::creations_for): in a fleet the first node creates them, every
// other node's first pass is the provider, its inventory and its traits.
Reporter::Applied Reporter::apply(const placement::Plan& plan, std::map<std::string, int64_t>& generations,
                                  const std::function<bool()>& should_stop) {
  if (before_write_ && !plan.steps.empty()) before_write_();
  for (const auto& step : plan.steps) {
    if (step.kind == placement::Step::Kind::ensure_trait || step.kind == placement::Step::Kind::ensure_resource_class)
      continue;
    if (should_stop && should_stop()) return {Applied::Kind::stopped, {}, {}};
    auto r = session_.client->execute(step.request);
    if (!r && r.error().http_status == 400) {
      const std::vector<placement::Step> made = placement::creations_for(step, r.error().message, plan);
      for (const auto& m : made) {
        if (auto c = session_.client->execute(m.request); !c)
          return {Applied::Kind::failed, outcome_for(c.error(), m.why), {}};
        log_.info(m.why);
      }
      if (!made.empty()) r = session_.client->execute(step.request);  // placement acted on nothing: same generation
    }
    if (r) {
      log_.info(step.why);
      note_written(step, r->body);
      if (step.kind == placement::Step::Kind::delete_provider) generations.erase(step.provider_uuid);
      else if (auto g = step.provider_uuid.empty() ? std::nullopt : generation_in(r->body))
        generations[step.provider_uuid] = *g;
      continue;
    }
    const Outcome o = placement::outcome_of(r.error());
    const bool delete_raced = step.kind == placement::Step::Kind::delete_provider &&
                              (o == Outcome::conflict_inuse || o == Outcome::not_found);
    // Another agent run (a `report --once` beside the daemon, two nodes'
    // automation) created the same pool first: re-read, and the plan finds it.
    const bool create_raced = step.kind == placement::Step::Kind::create_provider && o == Outcome::duplicate_name;
    // A generation conflict (somebody wrote between our read and write), a
    // delete or create that raced, or newer placement refusing total < used:
    // re-read, re-plan (shrinking by usage).
    if (o == Outcome::conflict_generation || o == Outcome::conflict_inuse || delete_raced || create_raced)
      return {Applied::Kind::conflict, {}, step.why + ": " + r.error().message};
    return {Applied::Kind::failed, outcome_for(r.error(), step.why), {}};
  }
  return {Applied::Kind::done, {}, {}};
}

// What we own and what the tree looks like now, for the next pass.
void Reporter::remember(const placement::Plan& plan, placement::Desired desired,
                        std::map<std::string, int64_t> generations) {
  if (plan.owned_traits != state_.owned_traits || state_dirty_) {
    state_dirty_ = false;
    AgentState next;
    next.owned_traits = plan.owned_traits;
    next.resume = state_.resume;
    if (auto saved = save_state(config_.state_dir + "/state.json", next); !saved)
      log_.warning(saved.error().message + "; traits removed from the config may stay in placement");
    state_ = next;
  }
  desired.owned_traits = state_.owned_traits;
  auto snap = std::make_unique<Snapshot>();
  snap->desired = signature(desired);
  snap->root_name = desired.root_name;
  snap->generations = std::move(generations);
  snap->shrinking = plan.shrinking;
  last_ = std::move(snap);
  save_resume_point();
}

PassOutcome Reporter::pass(bool dry_run, std::ostream* plan_out, const std::function<bool()>& should_stop) {
  should_stop_ = should_stop;
  PassOutcome o = pass_once(dry_run, plan_out, should_stop);
  // A request the stop signal cancelled failed for that reason only.
  if (should_stop && o.kind != PassOutcome::Kind::ok && should_stop()) {
    o.kind = PassOutcome::Kind::stopped;
    o.message = "stopped";
  }
  return o;
}

PassOutcome Reporter::pass_once(bool dry_run, std::ostream* plan_out, const std::function<bool()>& should_stop) {
  // 1. This host.
  auto host = load_host(sources_, config_, {}, &host_cache_);
  if (!host) return fatal(host.error().message, true);
  // 2. Placement. A session made by this pass counts from zero (its keystone
  // token for the catalog included).
  const bool fresh = !session_.client;
  if (auto c = connect(); !c) {
    PassOutcome o = c.error().kind == ErrorKind::bad_config     ? fatal(c.error().message, true)
                    : c.error().kind == ErrorKind::unauthorized ? fatal(c.error().message)
                                                                : retry(c.error().message);
    if (o.kind == PassOutcome::Kind::retry) session_ = PlacementSession{};
    o.observed = observe(*host);
    return o;
  }
  const placement::Counters before = fresh ? placement::Counters{} : session_.client->counters();
  const uint64_t tokens_before = fresh ? 0 : session_.tokens->token_requests();
  tree_read_ = false;
  PassOutcome o = reconcile(*host, dry_run, plan_out, should_stop);
  // The next pass reads the tree unless this one did and went well.
  tree_due_ = o.kind != PassOutcome::Kind::ok ? TreeDue::first : tree_read_ ? TreeDue::no : TreeDue::after_stand_in;
  const placement::Counters sent = session_.client->counters() - before;
  o.stats.requests = sent.requests;
  o.stats.writes = sent.writes;
  o.stats.by_status = sent.by_status;
  o.stats.conflicts = sent.conflicts;
  o.stats.token_requests = session_.tokens->token_requests() - tokens_before;
  o.observed = observe(*host);
  return o;
}

PassOutcome Reporter::reconcile(const LoadedHost& host, bool dry_run, std::ostream* plan_out,
                                const std::function<bool()>& should_stop) {
  auto& pc = *session_.client;
  load_state_once(host.inventory.hostname);
  auto root = find_root(host.inventory);
  if (!root) return outcome_for(root.error(), "looking up the compute node");
  if (!*root) return retry(not_in_placement_yet(host.inventory));
  if (!dry_run)
    if (auto o = stand_in(host)) return *o;
  for (int attempt = 0;; ++attempt) {
    // 3. Read placement's tree: one GET, and only that when nothing changed.
    placement::ProviderQuery q;
    q.in_tree = *root_uuid_;
    auto listed = pc.list_providers(q);
    if (!listed || listed->empty()) {
      const Outcome o = listed ? Outcome::not_found : placement::outcome_of(listed.error());
      if ((o == Outcome::not_found || o == Outcome::bad_request) && root_from_compute_id_) {
        if (auto r = compute_id_gone(host.inventory)) return *r;
        continue;
      }
      if (o == Outcome::not_found || o == Outcome::bad_request) {
        root_uuid_.reset();  // the compute node was deleted (nova-compute re-registered?)
        last_.reset();
        readings_.clear();
        if (root_from_state_) {
          // The compute node state.json named is gone (a new placement, nova
          // re-registered while the agent was down): look it up by name now.
          root_from_state_ = false;
          log_.info("compute node " + host.inventory.hostname +
                    " is not where state.json left it; looking it up by name");
          auto again = find_root(host.inventory);
          if (!again) return outcome_for(again.error(), "looking up the compute node");
          if (*again) continue;
        }
      }
      if (!listed) return outcome_for(listed.error(), "reading the provider tree");
      return retry("compute node provider '" + host.inventory.hostname + "' disappeared from placement");
    }
    if (root_from_compute_id_) {
      const std::string asked = *root_uuid_;
      if (auto r = check_compute_id_root(*listed, host.inventory)) return *r;
      if (*root_uuid_ != asked) continue;  // found by name instead: read that tree
    }
    root_from_state_ = false;
    tree_read_ = true;
    placement::Desired desired = desired_for(host);
    std::map<std::string, int64_t> gens = generations_of(*listed);
    if (attempt == 0 && unchanged_since_last(gens, desired)) {
      if (auto u = read_usages(usages_with_tree_, false); !u) return outcome_for(u.error(), "");
      if (plan_out) *plan_out << "# no changes: placement matches this host\n";
      PassOutcome o = ok("no changes");
      o.stats.quick = true;
      return o;
    }
    auto tree = read_tree(*listed, desired);
    if (!tree) return outcome_for(tree.error(), "");  // the error names the provider and what was read
    take_readings(*tree);
    if (rebuild_state_) {
      rebuild_state(*tree);
      desired = desired_for(host);
    }

    // 4. Plan.
    const std::vector<std::string> excluded = leave_nova_devices(*tree, host.inventory.hostname, desired);
    const placement::Plan plan = placement::plan_reconcile(*tree, desired);
    const std::set<std::string> notes = notes_for(excluded, plan, host);
    if (dry_run) {
      if (plan_out) print_plan(*plan_out, host.inventory.hostname, plan, notes);
      PassOutcome o = ok(std::to_string(plan.steps.size()) + " change(s) planned");
      o.stats.planned = plan.steps.size();
      return o;
    }

    // 5. Apply, in order; on a conflict read and plan again.
    const Applied applied = apply(plan, gens, should_stop);
    if (applied.kind == Applied::Kind::stopped) return {PassOutcome::Kind::stopped, "stopped", false, {}, {}};
    if (applied.kind == Applied::Kind::failed) return applied.failure;
    if (applied.kind == Applied::Kind::conflict) {
      if (attempt + 1 >= kMaxConflictRetries)
        return retry("placement kept changing under the agent (" + std::to_string(kMaxConflictRetries) +
                     " conflicts in a row; the last: " + applied.conflict + "); will try again");
      static thread_local std::mt19937 rng{std::random_device{}()};
      std::uniform_int_distribution<int> ms(50, 250 * (attempt + 1));
      log_.info("conflict on the provider tree (" + applied.conflict + "); re-reading (attempt " +
                std::to_string(attempt + 2) + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
      continue;
    }
    // 6. Remember what we own and what the tree looks like now.
    remember(plan, std::move(desired), std::move(gens));
    PassOutcome o = ok(plan.steps.empty() ? "no changes" : std::to_string(plan.steps.size()) + " change(s) applied");
    o.stats.planned = plan.steps.size();
    return o;
  }
}

}  // namespace gpu_agent
