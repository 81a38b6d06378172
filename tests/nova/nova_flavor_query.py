#!/usr/bin/python3
"""nova's own code as an oracle for GPU flavors (Debian python3-nova: Zed 26, 2025.1 31, 2026.2 34).

Run with Debian's interpreter, /usr/bin/python3 (python3-nova is not in a
pyenv/venv). nova is imported once (about 3 s) for the whole batch.

Usage:
  nova_flavor_query.py FLAVORS.json|- [--nova-conf FILE]
                       [--placement URL [--token admin]]
  nova_flavor_query.py --nova-url URL/v2.1 [--flavor NAME]... [--nova-conf FILE]
                       [--placement URL [--token admin]]

Input: a JSON list of flavors, or the agent's object {"flavors": [...]}; each
  {"name": str, "vcpus": int, "ram": MiB, "disk": GiB, "ephemeral": GiB
   (optional), "swap": MiB (optional), "extra_specs": {key: value}}
With --nova-url the flavors (and their extra specs) are read from a running
nova-api instead (token admin:admin); --flavor (name or id, repeatable)
selects some, default all.

For each flavor:
  * every extra spec goes through nova.api.validation.extra_specs.validators
    .validate(), as nova-api >= 2.86 does on POST .../os-extra_specs (numbers
    are turned into strings first, as nova-api does);
  * objects.Flavor + objects.RequestSpec -> nova.scheduler.utils
    .ResourceRequest.from_request_spec(spec).to_querystring(): the exact
    GET /allocation_candidates query nova's scheduler sends;
  * pci_passthrough:alias -> the InstancePCIRequests nova would create
    (nova.pci.request.get_pci_requests_from_flavor). That needs the alias in
    [pci] alias, so only with --nova-conf (an alias missing there makes the
    flavor invalid: PciRequestAliasNotDefined at boot); without it the alias
    spec is split as nova splits it and reported with "resolved": false.
    In Zed the alias is NOT part of the placement query: only the
    PciPassthroughFilter looks at these requests.
  * from nova 34 (2026.2) the scheduler's owner_nova_filter, as when every
    compute is upgraded: root_required=OWNER_NOVA (feature-detected);
  * with --placement: the query runs against that placement
    (OpenStack-API-Version: placement 1.39, X-Auth-Token: --token) and the
    candidates are reported as the sorted names of their root providers.

Output (JSON on stdout):
  {"flavors": [{"name": str, "valid": bool, "error": str (only if invalid),
                "querystring": str|null,
                "pci_requests": [{"alias_name": str, "count": int,
                                  "resolved": bool, "spec": [..]|null,
                                  "numa_policy": str|null}],
                "candidate_hosts": [root provider names] (with --placement),
                "candidates": N allocation requests (with --placement)}]}
Exit: 0 all flavors valid, 1 any invalid (all are still printed), 2 usage or
unreadable input, 3 placement or nova-api could not be queried.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")

PLACEMENT_VERSION = "placement 1.39"


class UsageError(Exception):
    pass


class RemoteError(Exception):
    pass


def http_json(url, headers, timeout=60):
    req = urllib.request.Request(url, headers=dict(headers, Accept="application/json"))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        raise RemoteError("GET %s: HTTP %d %s" % (url, e.code, body.strip()[:500]))
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise RemoteError("GET %s: %s" % (url, e))


def load_file(path):
    try:
        if path == "-":
            data = json.load(sys.stdin)
        else:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError("cannot read flavors from %s: %s" % (path, e))
    if isinstance(data, dict) and isinstance(data.get("flavors"), list):
        data = data["flavors"]
    if not isinstance(data, list):
        raise UsageError('%s: expected a list of flavors or {"flavors": [...]}' % path)
    return data


def load_nova(nova_url, names):
    """Flavors with extra specs from a running nova-api (noauth2, admin)."""
    body = http_json(nova_url.rstrip("/") + "/flavors/detail?is_public=None",
                     {"X-Auth-Token": "admin:admin",
                      # 2.61: extra_specs inline in the flavor
                      "OpenStack-API-Version": "compute 2.61"})
    flavors = body.get("flavors", [])
    if names:
        picked = []
        for n in names:
            m = [f for f in flavors if n in (f.get("id"), f.get("name"))]
            if len(m) != 1:
                raise UsageError("flavor %r %s in %s" % (
                    n, "not found" if not m else "ambiguous", nova_url))
            picked.append(m[0])
        flavors = picked
    out = []
    for f in flavors:
        out.append({"name": f["name"], "vcpus": f["vcpus"], "ram": f["ram"],
                    "disk": f["disk"],
                    "ephemeral": f.get("OS-FLV-EXT-DATA:ephemeral") or 0,
                    # nova answers "" for no swap
                    "swap": f.get("swap") or 0,
                    "extra_specs": f.get("extra_specs") or {}})
    return out


class Placement:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.headers = {"X-Auth-Token": token,
                        "OpenStack-API-Version": PLACEMENT_VERSION}
        self._names = None

    def names(self, refresh=False):
        if self._names is None or refresh:
            body = http_json(self.url + "/resource_providers", self.headers)
            self._names = {rp["uuid"]: rp["name"]
                           for rp in body["resource_providers"]}
        return self._names

    def name(self, uuid):
        names = self.names()
        if uuid not in names:
            names = self.names(refresh=True)
        return names.get(uuid, uuid)

    def candidates(self, qs):
        body = http_json(self.url + "/allocation_candidates?" + qs, self.headers)
        summaries = body.get("provider_summaries", {})

        def root(uuid):
            # 1.29+: root_provider_uuid; walk parent_provider_uuid otherwise
            seen = set()
            while uuid in summaries and uuid not in seen:
                seen.add(uuid)
                s = summaries[uuid]
                if s.get("root_provider_uuid"):
                    return s["root_provider_uuid"]
                if not s.get("parent_provider_uuid"):
                    return uuid
                uuid = s["parent_provider_uuid"]
            return uuid

        ars = body.get("allocation_requests", [])
        roots = {root(u) for ar in ars for u in ar.get("allocations", {})}
        return sorted(self.name(u) for u in roots), len(ars)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("file", nargs="?", help="flavors JSON file, - for stdin")
    ap.add_argument("--nova-url", help="compute endpoint .../v2.1 (noauth2)")
    ap.add_argument("--flavor", action="append", default=[],
                    help="with --nova-url: flavor name or id (repeatable)")
    ap.add_argument("--nova-conf", help="nova.conf with [pci] alias")
    ap.add_argument("--placement", help="placement base URL (noauth2)")
    ap.add_argument("--token", default="admin", help="placement token")
    a = ap.parse_args()
    if bool(a.file) == bool(a.nova_url):
        ap.error("give either a flavors file (or -) or --nova-url")
    if a.flavor and not a.nova_url:
        ap.error("--flavor needs --nova-url")
    if a.nova_conf and not os.path.isfile(a.nova_conf):
        ap.error("--nova-conf %s: no such file" % a.nova_conf)

    try:
        flavors = load_file(a.file) if a.file else load_nova(a.nova_url, a.flavor)
    except UsageError as e:
        print("nova_flavor_query: %s" % e, file=sys.stderr)
        return 2
    except RemoteError as e:
        print("nova_flavor_query: nova-api: %s" % e, file=sys.stderr)
        return 3

    # nova only after the arguments are fine: the import takes ~3 s.
    import nova.conf
    from nova import exception
    from nova import objects
    objects.register_all()
    from nova.api.validation.extra_specs import validators
    from nova.pci import request as pci_request
    from nova.scheduler import utils as sched_utils

    try:
        nova.conf.CONF([], project="nova",
                       default_config_files=[a.nova_conf] if a.nova_conf else [], default_config_dirs=[])
    except Exception as e:  # oslo.config parse errors
        print("nova_flavor_query: %s: %s" % (a.nova_conf, e), file=sys.stderr)
        return 2

    placement = Placement(a.placement, a.token) if a.placement else None

    # nova 34 (2026.2) and later: the scheduler's owner_nova_filter adds root_required=
    # OWNER_NOVA once every nova-compute reports it (the steady state after an upgrade,
    # taken here). Feature-detected: earlier releases have no such filter.
    from nova.scheduler import request_filter
    owner_nova_filter = getattr(request_filter, "owner_nova_filter", None)
    if owner_nova_filter is not None:
        request_filter._should_filter_by_owner = lambda ctxt: True

    def owner_filter(spec):
        if owner_nova_filter is not None:
            from nova import context as nova_context
            owner_nova_filter(nova_context.get_admin_context(), spec)
    results = []
    any_invalid = remote_failed = False
    for i, f in enumerate(flavors):
        name = f.get("name") if isinstance(f, dict) else None
        res = {"name": name if name is not None else "#%d" % i, "valid": True}
        errors = []
        if not isinstance(f, dict):
            errors.append("not a JSON object")
            f = {}
        specs = f.get("extra_specs", f.get("properties")) or {}
        if not isinstance(specs, dict):
            errors.append("extra_specs is not an object")
            specs = {}
        # nova-api turns numeric values into strings before validating
        specs = {str(k): (str(v).lower() if isinstance(v, bool)
                          else str(v) if isinstance(v, (int, float)) else v)
                 for k, v in specs.items()}
        for k in sorted(specs):
            try:
                if not isinstance(specs[k], str):
                    raise exception.ValidationError(
                        detail="value must be a string, not %r" % (specs[k],))
                validators.validate(k, specs[k])
            except exception.ValidationError as e:
                errors.append("%s=%s: %s" % (k, specs[k], e))

        sizes = {}
        for key, default in (("vcpus", None), ("ram", None), ("disk", 0),
                             ("ephemeral", 0), ("swap", 0)):
            v = f.get(key, default)
            if v in (None, "") and default is not None:
                v = default
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                errors.append("%s: expected an integer >= 0, got %r" % (key, v))
                v = default or 0
            sizes[key] = v

        res["querystring"] = None
        try:
            flavor = objects.Flavor(
                name=res["name"], vcpus=sizes["vcpus"], memory_mb=sizes["ram"],
                root_gb=sizes["disk"], ephemeral_gb=sizes["ephemeral"],
                swap=sizes["swap"],
                extra_specs={k: v for k, v in specs.items() if isinstance(v, str)})
            spec = objects.RequestSpec(
                flavor=flavor, is_bfv=False,
                image=objects.ImageMeta(properties=objects.ImageMetaProps()))
            owner_filter(spec)
            rr = sched_utils.ResourceRequest.from_request_spec(spec)
            res["querystring"] = rr.to_querystring()
        except Exception as e:
            errors.append("scheduler request: %s: %s" % (type(e).__name__, e))
            flavor = None

        res["pci_requests"] = []
        alias = specs.get("pci_passthrough:alias")
        if isinstance(alias, str):
            if a.nova_conf and flavor is not None:
                try:
                    reqs = pci_request.get_pci_requests_from_flavor(flavor)
                    res["pci_requests"] = [
                        {"alias_name": r.alias_name, "count": r.count,
                         "resolved": True, "spec": r.spec,
                         "numa_policy": r.numa_policy}
                        for r in reqs.requests]
                except Exception as e:
                    errors.append("pci_passthrough:alias=%s: %s: %s" % (
                        alias, type(e).__name__, e))
            else:
                # no [pci] alias to resolve against: split it as
                # nova.pci.request._translate_alias_to_requests does
                for part in alias.split(","):
                    n, _, c = part.partition(":")
                    try:
                        count = int(c)
                    except ValueError:
                        count = None
                    res["pci_requests"].append(
                        {"alias_name": n.strip(), "count": count,
                         "resolved": False, "spec": None, "numa_policy": None})

        if errors:
            res["valid"] = False
            res["error"] = "; ".join(errors)
            any_invalid = True
        elif placement is not None and res["querystring"] is not None:
            try:
                hosts, n = placement.candidates(res["querystring"])
                res["candidate_hosts"], res["candidates"] = hosts, n
            except RemoteError as e:
                res["placement_error"] = str(e)
                remote_failed = True
        results.append(res)

    print(json.dumps({"flavors": results}, indent=2, sort_keys=True, default=str))
    if any_invalid:
        return 1
    return 3 if remote_failed else 0


if __name__ == "__main__":
    sys.exit(main())
