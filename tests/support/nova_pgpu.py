#!/usr/bin/env python3
"""nova's pGPU (vGPU) resource providers, created in a real Placement as nova's libvirt driver does.

For tests of an agent that decorates nova's providers (it must never own them). Python 3
standard library only: any python3 runs it (no nova needed). What nova does, and where
(Debian's nova 26 / Zed, /usr/lib/python3/dist-packages/nova):

* Names: one child provider of the compute node per physical device that has vGPU capacity,
  named "<nodename>_<libvirt nodedev name>", e.g. "compute1_pci_0000_41_00_4" for
  0000:41:00.4 (virt/libvirt/driver.py:9045 `'%s_%s' % (nodename, pgpu_dev_id)`). nova reads
  the parent device back from that name when it allocates (driver.py:8466-8471), so the name
  is the contract. A device whose total would be 0 gets no provider (driver.py:9041).
* Inventory: one resource class, VGPU, or the [mdev_<type>] mdev_class of the device's type
  (driver.py:9056, :7955-7964), with total = available_instances of the enabled type on the
  device + mdevs of that type already created on it, and min_unit 1, step_size 1, reserved 0,
  allocation_ratio 1.0, max_unit = total (driver.py:8040-8060). nova PUTs the whole
  inventory of the provider (other classes on it would be removed).
* Traits: none. The libvirt driver sets traits only on the root (driver.py:8904-8912,
  "TODO(sbauza): Use traits to providing vGPU types"). nova's report client PUTs a
  provider's traits only when its cached tree's traits differ from what the driver wants
  (scheduler/client/report.py:1074 have_traits_changed); the cache is read from placement,
  so traits set by someone else on a pGPU provider are kept. A custom mdev_class is created
  first (PUT /resource_classes/CUSTOM_...), as report.py's _ensure_resource_classes does.
* Conflicts: every write carries the provider generation; a 409 makes the resource tracker
  drop its cache and redo the whole update, at most 4 attempts
  (compute/resource_tracker.py:1198-1208, retrying stop_max_attempt_number=4).

Module API (all talk to Placement with X-Auth-Token (noauth2: "admin") and
"OpenStack-API-Version: placement 1.39"):

  pl = Placement(url, token="admin", microversion="1.39")
  pl.request(method, path, body=None, ok=(200, 201, 204)) -> (status, json-or-None)
  provider_name(nodename, address) -> "compute1_pci_0000_41_00_4"
  libvirt_name(address) -> "pci_0000_41_00_4"
  nova_inventory(total, resource_class="VGPU") -> {rc: {total, min_unit, max_unit, ...}}
  ensure_compute_node(pl, nodename, uuid=None, inventory=DEFAULT_ROOT_INVENTORY,
                      traits=None) -> root uuid (the compute node's root provider;
                      inventory={} for none)
  create_pgpus(pl, nodename, parents) -> [Pgpu]   parents: iterable of
      (address, type_id, total) or (address, type_id, total, mdev_class) or dicts with
      those keys; total = available + existing instances. Idempotent (an existing provider
      of that name is reused and its inventory set as nova would).
  get_provider(pl, name_or_uuid) -> {"uuid", "name", "generation", "parent_provider_uuid",
                                     "inventories", "traits"}
  nova_update(pl, name_or_uuid, inventory=None, add_traits=(), remove_traits=(),
              max_attempts=4, between=None) -> {"attempts", "conflicts", "generation",
                                                "traits", "inventories"}
      A nova-style update of one provider: read it afresh (generation, inventory, traits),
      PUT the inventory nova wants (if it differs), then the traits = what placement has
      + add_traits - remove_traits (if they differ; foreign traits are kept), each write with
      the generation it read; on 409 start again from the read, up to max_attempts (nova's
      4), then raise Conflict. `between(attempt)` is called after the read and before the
      writes, so a test can make another writer change the provider there and force a 409.
      inventory=None keeps the inventory as it is (a periodic update with no change).

CLI:
  nova_pgpu.py --url URL create NODENAME ADDR,TYPE,TOTAL[,MDEV_CLASS] ...
  nova_pgpu.py --url URL show NAME_OR_UUID
  nova_pgpu.py --url URL update NAME_OR_UUID [--total N [--resource-class RC]]
                                             [--add-trait T]... [--remove-trait T]...
Prints JSON; exit 1 on a Placement error.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid as uuidlib

MICROVERSION = "1.39"
VGPU = "VGPU"
OWNER_NOVA = "OWNER_NOVA"  # os_traits, set by nova 34 (2026.2) and later
DEFAULT_ROOT_INVENTORY = {
    "VCPU": {"total": 64, "reserved": 0, "min_unit": 1, "max_unit": 64, "step_size": 1,
             "allocation_ratio": 1.0},
    "MEMORY_MB": {"total": 524288, "reserved": 512, "min_unit": 1, "max_unit": 524288,
                  "step_size": 1, "allocation_ratio": 1.0},
    "DISK_GB": {"total": 1000, "reserved": 0, "min_unit": 1, "max_unit": 1000,
                "step_size": 1, "allocation_ratio": 1.0},
}


class PlacementError(Exception):
    def __init__(self, method, path, status, body):
        super().__init__("%s %s -> %s: %s" % (method, path, status, body))
        self.status, self.body = status, body


class Conflict(PlacementError):
    pass


class Placement:
    def __init__(self, url, token="admin", microversion=MICROVERSION, timeout=30):
        self.url = url.rstrip("/")
        self.token, self.microversion, self.timeout = token, microversion, timeout

    def request(self, method, path, body=None, ok=(200, 201, 204)):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-Auth-Token", self.token)
        req.add_header("OpenStack-API-Version", "placement " + self.microversion)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode("utf-8", "replace")
        try:
            payload = json.loads(text) if text.strip() else None
        except ValueError:
            payload = text
        if status not in ok:
            cls = Conflict if status == 409 else PlacementError
            raise cls(method, path, status, payload)
        return status, payload


def libvirt_name(address):
    """0000:41:00.4 -> pci_0000_41_00_4 (libvirt's nodedev name, lower-case hex)."""
    return "pci_" + address.lower().replace(":", "_").replace(".", "_")


def provider_name(nodename, address):
    return "%s_%s" % (nodename, libvirt_name(address))


def nova_inventory(total, resource_class=VGPU):
    return {resource_class: {"total": int(total), "min_unit": 1, "step_size": 1,
                             "reserved": 0, "allocation_ratio": 1.0,
                             "max_unit": int(total)}}


def _find(pl, name_or_uuid):
    try:
        uuidlib.UUID(name_or_uuid)
        is_uuid = True
    except ValueError:
        is_uuid = False
    if is_uuid:
        _, rp = pl.request("GET", "/resource_providers/%s" % name_or_uuid, ok=(200, 404))
        return rp if rp and "uuid" in rp else None
    _, body = pl.request("GET", "/resource_providers?name=%s"
                         % urllib.request.quote(name_or_uuid, safe=""))
    rps = body["resource_providers"]
    return rps[0] if rps else None


def get_provider(pl, name_or_uuid):
    rp = _find(pl, name_or_uuid)
    if rp is None:
        raise PlacementError("GET", "/resource_providers (%s)" % name_or_uuid, 404, "no such provider")
    while True:  # one consistent snapshot: both reads at the same generation
        _, inv = pl.request("GET", "/resource_providers/%s/inventories" % rp["uuid"])
        _, tr = pl.request("GET", "/resource_providers/%s/traits" % rp["uuid"])
        if inv["resource_provider_generation"] == tr["resource_provider_generation"]:
            break
    return {"uuid": rp["uuid"], "name": rp["name"],
            "parent_provider_uuid": rp.get("parent_provider_uuid"),
            "generation": tr["resource_provider_generation"],
            "inventories": inv["inventories"], "traits": sorted(tr["traits"])}


def _ensure_resource_class(pl, rc):
    if rc.startswith("CUSTOM_"):
        pl.request("PUT", "/resource_classes/%s" % rc, ok=(201, 204))


def _ensure_traits(pl, traits):
    for t in traits:
        if t.startswith("CUSTOM_"):
            pl.request("PUT", "/traits/%s" % t, ok=(201, 204))


def _create_provider(pl, name, parent_uuid=None, rp_uuid=None):
    rp = _find(pl, name)
    if rp is not None:
        return rp["uuid"]
    body = {"name": name, "uuid": rp_uuid or str(uuidlib.uuid4())}
    if parent_uuid:
        body["parent_provider_uuid"] = parent_uuid
    _, created = pl.request("POST", "/resource_providers", body, ok=(200,))
    return created["uuid"]


def _inventory_equal(have, want):
    keys = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")
    if set(have) != set(want):
        return False
    return all(float(have[rc].get(k, 0)) == float(want[rc].get(k, 0))
               for rc in want for k in keys)


def ensure_compute_node(pl, nodename, uuid=None, inventory=DEFAULT_ROOT_INVENTORY, traits=None,
                        owner_nova=False):
    """The compute node's root provider (nova names it with the hypervisor hostname).
    owner_nova: nova 34 (2026.2) and later put OWNER_NOVA on it (resource_tracker)."""
    rp_uuid = _create_provider(pl, nodename, rp_uuid=uuid)
    traits = list(traits or ()) + ([OWNER_NOVA] if owner_nova else [])
    if inventory or traits:
        nova_update(pl, rp_uuid, inventory=inventory or None, add_traits=traits)
    return rp_uuid


def nova_has_owner_trait():
    """Does the nova this Python imports put OWNER_NOVA on its providers (2026.2+)?
    Feature-detected from its resource tracker; False without nova."""
    try:
        import inspect
        from nova.compute import resource_tracker
        return "OWNER_NOVA" in inspect.getsource(resource_tracker)
    except Exception:  # noqa: BLE001 - no nova here, or no source
        return False


class Pgpu(dict):
    """{"name", "uuid", "address", "type", "resource_class", "total", "inventory"}"""


def _parent_tuple(p):
    """(address, type, total, resource_class, existing): existing = mdevs already created
    (dicts may give it; a tuple's total counts as available)."""
    if isinstance(p, dict):
        existing = int(p.get("existing", 0))
        return (p["address"], p.get("type"), int(p["total"]), p.get("mdev_class") or VGPU, existing)
    p = tuple(p)
    if len(p) == 3:
        return (p[0], p[1], int(p[2]), VGPU, 0)
    return (p[0], p[1], int(p[2]), p[3] or VGPU, 0)


def usable_parents(parents, max_instances=None):
    """[(address, type, total, resource_class)]: the parents nova makes a provider for,
    as LibvirtDriver._get_gpu_inventories decides. Existing mdevs always count; with
    [mdev_<type>] max_instances (2023.2+, {type: N}) a parent's available instances are
    taken only while the type's running count plus them stays within N, in the order nova
    lists the devices; a parent left with total 0 gets no provider."""
    ps = list(map(_parent_tuple, parents))
    used = {}
    for _a, mtype, _t, _rc, existing in ps:
        used[mtype] = used.get(mtype, 0) + existing
    out = []
    for address, mtype, total, rc, existing in ps:
        available = total - existing
        limit = (max_instances or {}).get(mtype)
        if available > 0 and limit and used[mtype] + available > limit:
            continue  # nova sets its total to 0, existing mdevs or not: no provider
        if available > 0:
            used[mtype] += available
        if existing + available > 0:
            out.append((address, mtype, existing + available, rc))
    return out


def create_pgpus(pl, nodename, parents, max_instances=None, owner_nova=False):
    """Child providers of NODENAME's root, one per usable parent (usable_parents), as nova's
    _ensure_pgpu_providers + update_from_provider_tree make them; owner_nova: with
    OWNER_NOVA on each, as nova 34 and later do. Returns [Pgpu]."""
    root = _find(pl, nodename)
    if root is None:
        raise PlacementError("GET", "/resource_providers?name=%s" % nodename, 404,
                             "no compute node provider; call ensure_compute_node first")
    out = []
    for address, mtype, total, rc in usable_parents(parents, max_instances):
        name = provider_name(nodename, address)
        rp_uuid = _create_provider(pl, name, parent_uuid=root["uuid"])
        _ensure_resource_class(pl, rc)
        inv = nova_inventory(total, rc)
        nova_update(pl, rp_uuid, inventory=inv, add_traits=[OWNER_NOVA] if owner_nova else ())
        out.append(Pgpu(name=name, uuid=rp_uuid, address=address, type=mtype,
                        resource_class=rc, total=total, inventory=inv))
    return out


def nova_update(pl, name_or_uuid, inventory=None, add_traits=(), remove_traits=(),
                max_attempts=4, between=None):
    """One provider, updated the way nova's resource tracker does (see the module doc)."""
    conflicts = 0
    for attempt in range(1, max_attempts + 1):
        cur = get_provider(pl, name_or_uuid)
        gen = cur["generation"]
        want_traits = (set(cur["traits"]) | set(add_traits)) - set(remove_traits)
        if between is not None:
            between(attempt)
        try:
            if inventory is not None and not _inventory_equal(cur["inventories"], inventory):
                for rc in inventory:
                    _ensure_resource_class(pl, rc)
                _, body = pl.request("PUT", "/resource_providers/%s/inventories" % cur["uuid"],
                                     {"resource_provider_generation": gen,
                                      "inventories": inventory})
                gen = body["resource_provider_generation"]
            if want_traits != set(cur["traits"]):
                _ensure_traits(pl, want_traits)
                _, body = pl.request("PUT", "/resource_providers/%s/traits" % cur["uuid"],
                                     {"resource_provider_generation": gen,
                                      "traits": sorted(want_traits)})
                gen = body["resource_provider_generation"]
        except Conflict:
            conflicts += 1
            continue
        final = get_provider(pl, cur["uuid"])
        return {"attempts": attempt, "conflicts": conflicts, "generation": final["generation"],
                "traits": final["traits"], "inventories": final["inventories"]}
    raise Conflict("PUT", "/resource_providers/%s" % name_or_uuid, 409,
                   "still conflicting after %d attempts" % max_attempts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", default="admin")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("nodename")
    c.add_argument("parents", nargs="+", help="ADDR,TYPE,TOTAL[,MDEV_CLASS]")
    c.add_argument("--no-root-inventory", action="store_true")
    s = sub.add_parser("show")
    s.add_argument("provider")
    u = sub.add_parser("update")
    u.add_argument("provider")
    u.add_argument("--total", type=int)
    u.add_argument("--resource-class", default=VGPU)
    u.add_argument("--add-trait", action="append", default=[])
    u.add_argument("--remove-trait", action="append", default=[])
    a = ap.parse_args(argv)
    pl = Placement(a.url, token=a.token)
    try:
        if a.cmd == "create":
            ensure_compute_node(pl, a.nodename,
                                inventory={} if a.no_root_inventory else DEFAULT_ROOT_INVENTORY)
            parents = []
            for p in a.parents:
                parts = p.split(",")
                if len(parts) not in (3, 4):
                    ap.error("parent %r: want ADDR,TYPE,TOTAL[,MDEV_CLASS]" % p)
                parents.append(parts)
            out = create_pgpus(pl, a.nodename, parents)
        elif a.cmd == "show":
            out = get_provider(pl, a.provider)
        else:
            inv = nova_inventory(a.total, a.resource_class) if a.total is not None else None
            out = nova_update(pl, a.provider, inventory=inv, add_traits=a.add_trait,
                              remove_traits=a.remove_trait)
    except PlacementError as e:
        print("nova_pgpu: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
