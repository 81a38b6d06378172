#include "nova_release.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace gpu_agent {
namespace {

// nova's major version per release (openstack/releases): what changed for GPUs is keyed on it.
// Function-local statics: other translation units read them during static initialisation (--help).
const std::vector<NovaRelease>& release_table() {
  static const std::vector<NovaRelease> releases = {
      {"train", "train", 20},     {"ussuri", "ussuri", 21},   {"victoria", "victoria", 22}, {"wallaby", "wallaby", 23},
      {"xena", "xena", 24},       {"yoga", "yoga", 25},       {"zed", "zed", 26},           {"2023.1", "antelope", 27},
      {"2023.2", "bobcat", 28},   {"2024.1", "caracal", 29},  {"2024.2", "dalmatian", 30},  {"2025.1", "epoxy", 31},
      {"2025.2", "flamingo", 32}, {"2026.1", "gazpacho", 33}, {"2026.2", "hibiscus", 34},
  };
  return releases;
}

// Each from nova's own code and release notes: the option's first release.
const std::vector<NovaFeatureInfo>& feature_table() {
  static const std::vector<NovaFeatureInfo> features = {
      {NovaFeature::multiple_vgpu_types, "multiple_vgpu_types", 21,
       "more than one enabled vGPU type ([vgpu_<type>] device_addresses)"},
      {NovaFeature::numa_policy_socket, "numa_policy_socket", 23, "alias numa_policy \"socket\""},
      {NovaFeature::mdev_options, "mdev_options", 24,
       "[devices] enabled_mdev_types, [mdev_<type>] and mdev_class (enabled_vgpu_types before)"},
      {NovaFeature::device_spec, "device_spec", 26, "[pci] device_spec (passthrough_whitelist before)"},
      {NovaFeature::report_in_placement, "report_in_placement", 26,
       "[pci] report_in_placement: PCI devices as placement providers"},
      {NovaFeature::max_instances, "max_instances", 28,
       "[mdev_<type>] max_instances: nova makes pGPU providers only for the parents it fills"},
      {NovaFeature::vgpu17_unmanaged, "vgpu17_managed_no", 31,
       "device_spec \"managed\": \"no\" for vGPU 17 VFs (no mdev bus)"},
      {NovaFeature::owner_nova, "owner_nova", 34,
       "OWNER_NOVA on nova's providers; the scheduler requires it on the root once every compute has it"},
  };
  return features;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

const NovaFeatureInfo& info(NovaFeature f) {
  for (const auto& i : feature_table())
    if (i.feature == f) return i;
  return feature_table().front();
}

// "nova-26.2.2.egg-info" -> "26.2.2"; anything else -> "".
std::string version_of_entry(const std::string& name) {
  for (const char* suffix : {".egg-info", ".dist-info"}) {
    const std::string s = suffix;
    if (name.size() <= 5 + s.size() || name.compare(0, 5, "nova-") != 0 ||
        name.compare(name.size() - s.size(), s.size(), s) != 0)
      continue;
    std::string v = name.substr(5, name.size() - 5 - s.size());
    if (auto dash = v.find('-'); dash != std::string::npos) v.resize(dash);  // nova-26.2.2-py3.11.egg-info
    if (!v.empty() && v[0] >= '0' && v[0] <= '9') return v;
  }
  return "";
}

// The leading digits of a version ("26.2.2" -> 26); -1 when there are none.
int leading_number(const std::string& v) {
  int n = 0;
  size_t k = 0;
  for (; k < v.size() && v[k] >= '0' && v[k] <= '9' && n < 100000; ++k) n = n * 10 + (v[k] - '0');
  return k == 0 ? -1 : n;
}

}  // namespace

const std::vector<NovaRelease>& nova_releases() { return release_table(); }
const std::vector<NovaFeatureInfo>& nova_features() { return feature_table(); }
const NovaRelease& newest_nova_release() { return release_table().back(); }

bool has_feature(const NovaRelease& rel, NovaFeature f) { return rel.nova_major >= info(f).since_major; }

const NovaRelease& release_introducing(NovaFeature f) {
  for (const auto& r : release_table())
    if (r.nova_major == info(f).since_major) return r;
  return release_table().front();
}

Result<NovaRelease> parse_nova_release(const std::string& text) {
  const std::string t = lower(text);
  for (const auto& r : release_table())
    if (t == r.name || t == r.code || t == std::to_string(r.nova_major)) return r;
  return make_error("unknown nova release '" + text + "'; known: " + known_nova_releases() +
                    " (or nova's major version, " + std::to_string(release_table().front().nova_major) + " to " +
                    std::to_string(release_table().back().nova_major) + ")");
}

std::string known_nova_releases() {
  std::string out;
  for (const auto& r : release_table()) {
    if (!out.empty()) out += ", ";
    out += r.name;
    if (r.code != r.name) out += " (" + r.code + ")";
  }
  return out;
}

std::string nova_release_help(const std::string& indent) {
  std::string out;
  for (const auto& r : release_table()) {
    std::string line = std::to_string(r.nova_major) + "  " + r.name;
    if (r.code != r.name) line += " (" + r.code + ")";
    std::string added;
    for (const auto& f : feature_table())
      if (f.since_major == r.nova_major) added += (added.empty() ? "" : ", ") + std::string(f.key);
    if (!added.empty()) line += std::string(std::max<size_t>(2, 24 - line.size()), ' ') + "+ " + added;
    out += indent + line + "\n";
  }
  return out;
}

Result<NovaRelease> nova_release_from_version(const std::string& version) {
  const int major = leading_number(version);
  if (major < 0) return make_error("nova version '" + version + "' does not start with a number");
  if (major > release_table().back().nova_major) return release_table().back();
  for (const auto& r : release_table())
    if (r.nova_major == major) return r;
  return make_error("nova " + version + " is older than " + release_table().front().name + " (nova " +
                    std::to_string(release_table().front().nova_major) + "), the oldest release this agent knows");
}

std::optional<InstalledNova> find_installed_nova(const std::vector<std::string>& dirs) {
  for (const auto& d : dirs) {
    std::error_code ec;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
      names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& n : names)
      if (auto v = version_of_entry(n); !v.empty()) return InstalledNova{v, d + "/" + n};
  }
  return std::nullopt;
}

std::vector<std::string> nova_site_dirs(const char* override_path) {
  std::vector<std::string> out;
  if (override_path && *override_path) {
    std::string s = override_path;
    for (size_t start = 0; start <= s.size();) {
      const size_t end = std::min(s.find(':', start), s.size());
      if (end > start) out.push_back(s.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
  out = {"/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages"};
  std::error_code ec;
  for (const char* base : {"/usr/lib", "/usr/local/lib"}) {
    std::vector<std::string> found;
    for (std::filesystem::directory_iterator it(base, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (n.rfind("python3.", 0) == 0) found.push_back(it->path().string() + "/site-packages");
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

Result<NovaReleaseChoice> choose_nova_release(const std::optional<std::string>& configured, const std::string& what,
                                              const std::vector<std::string>& site_dirs) {
  if (configured && !configured->empty()) {
    auto r = parse_nova_release(*configured);
    if (!r) return make_error(what + ": " + r.error().message);
    return NovaReleaseChoice{*r, "configured", what + " " + *configured};
  }
  if (auto nova = find_installed_nova(site_dirs)) {
    auto r = nova_release_from_version(nova->version);
    if (r) {
      std::string why = "nova " + nova->version + " installed (" + nova->path + ")";
      if (r->nova_major < leading_number(nova->version)) why += ", newer than the newest release this agent knows";
      return NovaReleaseChoice{*r, "detected", why};
    }
    return NovaReleaseChoice{newest_nova_release(), "default", r.error().message + "; targeting the newest"};
  }
  return NovaReleaseChoice{newest_nova_release(), "default", "no installed nova found; the newest release"};
}

std::string describe(const NovaReleaseChoice& c) {
  return c.release.name + " (nova " + std::to_string(c.release.nova_major) + "), " + c.source + ": " + c.why;
}

}  // namespace gpu_agent
