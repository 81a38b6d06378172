#include "report.h"
#include "vgpu.h"

#include <rapidjson/document.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "fixture.h"
#include "fs.h"
#include "inventory.h"
#include "keystone.h"
#include "libvirt_check.h"
#include "pci_names.h"
#include "pools.h"

namespace gpu_agent {

using placement::Outcome;

struct Reporter::Snapshot {
  std::map<std::string, int64_t> generations;  // every provider in the tree
  std::string desired;                         // a signature of what was wanted
  bool shrinking = false;                      // usages matter: no one-GET shortcut
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
  for (const char* k : {"resource_provider_generation", "generation"}) {
    auto m = d.FindMember(k);
    if (m != d.MemberEnd() && m->value.IsInt64()) return m->value.GetInt64();
  }
  return std::nullopt;
}

PassOutcome retry(std::string m) { return {PassOutcome::Kind::retry, std::move(m), false}; }
PassOutcome fatal(std::string m, bool config = false) { return {PassOutcome::Kind::fatal, std::move(m), config}; }

}  // namespace

Result<PlacementSettings> effective_placement(const AgentConfig& cfg, const std::optional<std::string>& nova_config) {
  std::string path = nova_config.value_or(cfg.nova_config);
  if (path.empty()) return cfg.placement;
  auto ini = load_ini(path);
  if (!ini) return make_error("cannot use nova's config: " + ini.error().message);
  auto p = placement_from_ini(*ini, false);
  if (!p) return p.error();
  if (p->auth_type.empty() && p->endpoint_override.empty())
    return make_error(path + " has no [placement] section with auth_type; nothing to reuse");
  return p;
}

Reporter::Reporter(AgentConfig config, ReportSources sources, Log& log)
    : config_(std::move(config)), sources_(std::move(sources)), log_(log) {}

Reporter::~Reporter() = default;

void Reporter::reload(AgentConfig config) {
  config_ = std::move(config);
  names_.reset();
  host_.reset();
  client_.reset();
  tokens_.reset();
  root_uuid_.reset();
  last_.reset();
}

Result<bool> Reporter::connect() {
  if (client_) return true;
  const PlacementSettings& p = config_.placement;
  http::Options opts;
  opts.connect_timeout = std::chrono::milliseconds(static_cast<int64_t>(p.timeout * 1000));
  opts.io_timeout = opts.connect_timeout;
  opts.cafile = p.cafile;
  opts.insecure = p.insecure;
  if (p.insecure) log_.warning("[placement] insecure = true: TLS certificates are NOT verified");
  // -v: every request to keystone and placement (credentials redacted by the client)
  if (log_.enabled(Log::Level::debug)) opts.trace = [this](std::string_view line) { log_.debug(std::string(line)); };

  std::string endpoint = p.endpoint_override;
  std::string auth = p.auth_type;
  if (auth.empty() && !p.token.empty()) auth = "admin_token";
  if (auth == "admin_token" || auth == "noauth" || auth == "none") {
    if (endpoint.empty())
      return make_error(p.source + ": auth_type = " + auth + " needs endpoint_override = http(s)://HOST:PORT", 2);
    if (auth == "admin_token" && p.token.empty())
      return make_error(p.source + ": auth_type = admin_token needs token = ...", 2);
    tokens_ = std::make_shared<placement::StaticToken>(p.token);
  } else if (auth == "password" || auth == "v3password" || auth == "v3applicationcredential" ||
             auth == "applicationcredential") {
    keystone::Credentials c;
    c.auth_url = p.auth_url;
    c.method = (auth == "password" || auth == "v3password") ? "password" : "application_credential";
    c.username = p.username;
    c.password = p.password;
    c.user_domain_name = p.user_domain_name;
    c.user_domain_id = p.user_domain_id;
    c.project_name = p.project_name;
    c.project_domain_name = p.project_domain_name;
    c.project_domain_id = p.project_domain_id;
    c.project_id = p.project_id;
    c.application_credential_id = p.application_credential_id;
    c.application_credential_secret = p.application_credential_secret;
    c.application_credential_name = p.application_credential_name;
    c.region_name = p.region_name;
    c.valid_interfaces = p.valid_interfaces;
    auto session = keystone::Session::create(c, opts);
    if (!session) return make_error(p.source + ": " + session.error().message, 2);
    const std::string who = c.method == "password" ? "keystone password auth as " + c.username
                                                  : "keystone application credential " + c.application_credential_id;
    auto ks = std::make_shared<keystone::KeystoneTokens>(std::move(*session), who + " at " + c.auth_url);
    if (endpoint.empty()) {
      auto ep = ks->session().endpoint("placement");
      if (!ep && ep.error().code == keystone::kNoEndpoint) return make_error(p.source + ": " + ep.error().message, 2);
      if (!ep) return ep.error();
      endpoint = *ep;
    }
    tokens_ = ks;
  } else {
    return make_error(p.source + ": auth_type is not set: use password, v3applicationcredential, or admin_token "
                      "with endpoint_override (or --nova-config /etc/nova/nova.conf to reuse nova's)",
                      2);
  }
  auto client = placement::PlacementClient::create(endpoint, opts, tokens_);
  if (!client) return make_error(client.error().message, 2);
  client_ = std::move(*client);
  return true;
}

Result<placement::InventoryMap> Reporter::root_inventory(const std::string& compute_node) {
  if (auto c = connect(); !c) return make_error(c.error().message, c.error().code == 2 ? 2 : 1);
  auto& pc = *client_;
  if (!pc.microversion()) {
    if (auto mv = pc.negotiate(); !mv) return make_error("placement: " + mv.error().message, 1);
  }
  placement::ProviderQuery q;
  q.name = compute_node;
  auto found = pc.list_providers(q);
  if (!found) return make_error("looking up compute node " + compute_node + ": " + found.error().message, 1);
  if (found->empty())
    return make_error("compute node provider '" + compute_node + "' is not in placement: nova-compute creates it "
                      "on start; name another with --compute-node-name",
                      1);
  auto inv = pc.get_inventories(found->front().uuid);
  if (!inv) return make_error("reading the inventory of " + compute_node + ": " + inv.error().message, 1);
  return inv->inventories;
}

PassOutcome Reporter::outcome_for(const Error& e, Outcome o, const std::string& what) {
  const std::string m = what + ": " + e.message;
  switch (o) {
    case Outcome::unauthorized:
    case Outcome::forbidden:
      return fatal(m);
    case Outcome::unreachable:
    case Outcome::server_error_retryable:
      return retry(m);
    default:
      return retry(m);  // a request placement refused: log it and back off, it will not storm
  }
}

PassOutcome Reporter::pass(bool dry_run, std::ostream* plan_out, const std::function<bool()>& should_stop) {
  stats_ = PassStats{};
  // 1. This host.
  std::unique_ptr<Fs> fs;
  std::optional<std::string> fixture_host;
  if (sources_.fixture) {
    auto fx = load_fixture_file(*sources_.fixture);
    if (!fx) return fatal(fx.error().message, true);
    if (auto h = fx->meta.find("hostname"); h != fx->meta.end()) fixture_host = h->second;
    fs = std::move(fx->fs);
  } else {
    fs = std::make_unique<RealFs>(sources_.sysfs_root.value_or(config_.sysfs_root));
  }
  // pci.ids is parsed once, not every pass (it is ~1.3 MB of text)
  if (!names_ || names_->path() != (config_.pci_ids.empty() ? names_->path() : config_.pci_ids))
    names_ = std::make_unique<PciNames>(config_.pci_ids);
  InventoryOptions io;
  io.names = names_.get();
  auto inv = read_inventory(*fs, io);
  if (!inv) return fatal(inv.error().message, true);

  // nova's hypervisor hostname does not change while it runs: ask libvirt once (per config)
  if (!host_) {
    std::optional<std::string> libvirt_host;
    const std::string uri = sources_.libvirt_uri.value_or(sources_.fixture ? "none" : config_.libvirt_uri);
    if (uri != "none" && !sources_.hostname && !config_.compute_node_name) {
      if (auto snap = read_libvirt(uri)) libvirt_host = snap->hostname;
      else log_.warning(snap.error().message + "; using this host's own name for the compute node");
    }
    host_ = choose_hostname(sources_.hostname ? sources_.hostname : config_.compute_node_name, fixture_host,
                            libvirt_host);
  }
  const HostName host = *host_;

  auto pools = derive_pools(*inv, config_);
  if (!pools) return fatal(pools.error().message, true);
  auto resolved = resolve_vgpu_layouts(*inv, config_);
  if (!resolved) return fatal(resolved.error().message, true);
  const std::vector<VgpuLayout>& layouts = *resolved;

  // 2. Placement.
  if (auto c = connect(); !c) {
    if (c.error().code == 2) return fatal(c.error().message, true);
    if (c.error().code == 401) return fatal(c.error().message);
    client_.reset();
    return retry(c.error().message);
  }
  auto& pc = *client_;
  const auto before = pc.counters();
  auto finish = [&](PassOutcome o) {
    stats_.requests = pc.counters().requests - before.requests;
    stats_.writes = pc.counters().writes - before.writes;
    return o;
  };
  if (!pc.microversion()) {
    auto mv = pc.negotiate();
    if (!mv) return finish(outcome_for(mv.error(), pc.last_call().outcome, "placement"));
  }

  if (!state_loaded_) {
    auto st = load_state(config_.state_dir + "/state.json");
    if (st) state_ = *st;
    else log_.warning(st.error().message + "; starting with no record of owned traits (they are only added)");
    state_loaded_ = true;
  }

  if (!root_uuid_) {
    placement::ProviderQuery q;
    q.name = host.name;
    auto found = pc.list_providers(q);
    if (!found) return finish(outcome_for(found.error(), pc.last_call().outcome, "looking up the compute node"));
    if (found->empty())
      return finish(retry("compute node provider '" + host.name + "' (hostname from " + host.source +
                          ") is not in placement yet: nova-compute creates it on start; if nova uses another "
                          "name, set [agent] compute_node_name"));
    root_uuid_ = found->front().uuid;
  }

  std::vector<std::string> notes;
  for (int attempt = 0;; ++attempt) {
    placement::ProviderQuery q;
    q.in_tree = *root_uuid_;
    auto listed = pc.list_providers(q);
    if (!listed) {
      if (pc.last_call().outcome == Outcome::not_found || pc.last_call().outcome == Outcome::bad_request) {
        root_uuid_.reset();  // the compute node was deleted (nova-compute re-registered?)
        last_.reset();
      }
      return finish(outcome_for(listed.error(), pc.last_call().outcome, "reading the provider tree"));
    }
    if (listed->empty()) {
      root_uuid_.reset();
      last_.reset();
      return finish(retry("compute node provider '" + host.name + "' disappeared from placement"));
    }

    // Desired (without the nova-managed exclusions, which need the traits).
    placement::Desired desired;
    desired.root_name = host.name;
    desired.marker_trait = config_.marker_trait;
    if (config_.host_traits_owner == "agent")
      desired.root_traits.insert(config_.host_traits.begin(), config_.host_traits.end());
    desired.owned_traits = state_.owned_traits;
    if (config_.host_traits_owner == "nova") {
      // Handed over to nova's provider config: forget having set them, so they are
      // kept like anybody else's and never removed, not even for a moment.
      if (auto it = desired.owned_traits.find(*root_uuid_); it != desired.owned_traits.end())
        for (const auto& t : config_.host_traits) it->second.erase(t);
    }
    for (const auto& p : *pools) {
      placement::DesiredPool dp;
      dp.key = p.key;
      dp.resource_class = p.resource_class;
      dp.assignable = static_cast<int64_t>(p.assignable.size());
      dp.traits.insert(p.traits.begin(), p.traits.end());
      for (const auto& a : p.assignable) dp.devices.push_back(a.to_string());
      desired.pools.push_back(std::move(dp));
    }
    // vGPU: traits on nova's pGPU providers of the declared layouts
    for (const auto& l : layouts)
      for (const auto& parent : l.parents)
        desired.decorations[nova_pgpu_provider_name(host.name, parent.address)].insert(l.traits.begin(),
                                                                                        l.traits.end());

    // 3. Steady state: the tree is as the last pass left it and nothing here changed.
    std::map<std::string, int64_t> gens;
    for (const auto& p : *listed) gens[p.uuid] = p.generation;
    if (last_ && !last_->shrinking && attempt == 0 && last_->generations == gens && last_->desired == signature(desired)) {
      stats_.quick = true;
      if (plan_out) *plan_out << "# no changes: placement matches this host\n";
      return finish({PassOutcome::Kind::ok, "no changes", false});
    }

    // 4. Full read of what the plan needs.
    placement::TreeState tree;
    for (const auto& p : *listed) {
      placement::ProviderState s;
      s.uuid = p.uuid;
      s.name = p.name;
      s.parent_uuid = p.parent_uuid.value_or("");
      s.generation = p.generation;
      auto traits = pc.get_traits(p.uuid);
      if (!traits) return finish(outcome_for(traits.error(), pc.last_call().outcome, "reading traits of " + p.name));
      s.traits = traits->traits;
      s.generation = traits->generation;
      // Inventories and usages only of our pools (marker trait, or our naming after a
      // crash between create and the traits write); the root and foreign children need only traits.
      const bool pool = p.uuid != *root_uuid_ && (s.traits.count(config_.marker_trait) > 0 ||
                                                 p.name.find(":gpu-pool:") != std::string::npos);
      if (pool) {
        auto invs = pc.get_inventories(p.uuid);
        if (!invs) return finish(outcome_for(invs.error(), pc.last_call().outcome, "reading inventory of " + p.name));
        s.inventories = invs->inventories;
        auto use = pc.get_usages(p.uuid);
        if (!use) return finish(outcome_for(use.error(), pc.last_call().outcome, "reading usages of " + p.name));
        s.usages = use->usages;
      }
      if (p.uuid == *root_uuid_) tree.providers.insert(tree.providers.begin(), std::move(s));
      else tree.providers.push_back(std::move(s));
    }

    // nova's own PCI-in-placement providers win: no pool for those devices.
    const auto nova_owned = placement::nova_managed_addresses(tree, host.name);
    if (!nova_owned.empty()) {
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
    }

    placement::Plan plan = placement::plan_reconcile(tree, desired);
    stats_.planned = plan.steps.size();
    for (const auto& n : plan.notes) notes.push_back(n);
    for (const auto& p : *pools)
      for (const auto& a : p.unavailable)
        notes.push_back("pool " + p.key + ": " + a.to_string() + " is not assignable now (see `gpu-agent inventory`)");
    std::set<std::string> note_set(notes.begin(), notes.end());
    if (note_set != last_notes_)
      for (const auto& n : note_set)
        if (!last_notes_.count(n)) log_.warning(n);
    last_notes_ = note_set;

    if (dry_run) {
      if (plan_out) {
        *plan_out << "# compute node " << host.name << " (" << *root_uuid_ << "), microversion "
                  << pc.microversion()->str() << "\n";
        if (plan.steps.empty()) *plan_out << "# no changes: placement matches this host\n";
        for (const auto& s : plan.steps) *plan_out << placement::describe(s) << "\n";
        for (const auto& n : note_set) *plan_out << "# note: " << n << "\n";
      }
      return finish({PassOutcome::Kind::ok, std::to_string(plan.steps.size()) + " change(s) planned", false});
    }

    // 5. Apply, in order.
    bool conflict = false;
    for (const auto& step : plan.steps) {
      if (should_stop && should_stop()) return finish({PassOutcome::Kind::stopped, "stopped", false});
      if (before_write_ && &step == &plan.steps.front()) before_write_();
      auto r = pc.execute(step.request);
      if (r) {
        log_.info(step.why);
        // Track generations from the answers, so the next pass's one-GET check needs no re-read now.
        if (step.kind == placement::Step::Kind::delete_provider) gens.erase(step.provider_uuid);
        else if (auto g = step.provider_uuid.empty() ? std::nullopt : generation_in(r->body))
          gens[step.provider_uuid] = *g;
        continue;
      }
      const Outcome o = pc.last_call().outcome;
      const bool delete_raced = step.kind == placement::Step::Kind::delete_provider &&
                                (o == Outcome::conflict_inuse || o == Outcome::not_found);
      if (o == Outcome::conflict_generation || delete_raced) {
        conflict = true;
        break;
      }
      if (o == Outcome::conflict_inuse) {  // newer placement refuses total < used: re-read and shrink by usage
        conflict = true;
        break;
      }
      return finish(outcome_for(r.error(), o, step.why));
    }
    if (conflict) {
      if (attempt + 1 >= kMaxConflictRetries)
        return finish(retry("placement kept changing under the agent (" + std::to_string(kMaxConflictRetries) +
                            " generation conflicts in a row); will try again"));
      // Somebody (nova-compute, an allocation) wrote between our read and write: re-read, re-plan.
      static thread_local std::mt19937 rng{std::random_device{}()};
      std::uniform_int_distribution<int> ms(50, 250 * (attempt + 1));
      log_.info("generation conflict on the provider tree; re-reading (attempt " + std::to_string(attempt + 2) + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
      continue;
    }

    // 6. Remember what we own and what the tree looks like now.
    if (plan.owned_traits != state_.owned_traits) {
      AgentState next;
      next.owned_traits = plan.owned_traits;
      if (auto saved = save_state(config_.state_dir + "/state.json", next); !saved)
        log_.warning(saved.error().message + "; traits removed from the config may stay in placement");
      state_ = next;
    }
    desired.owned_traits = state_.owned_traits;
    auto snap = std::make_unique<Snapshot>();
    snap->desired = signature(desired);
    snap->generations = gens;
    snap->shrinking = plan.shrinking;
    last_ = std::move(snap);
    return finish({PassOutcome::Kind::ok,
                   plan.steps.empty() ? "no changes" : std::to_string(plan.steps.size()) + " change(s) applied",
                   false});
  }
}

}  // namespace gpu_agent
