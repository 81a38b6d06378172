"""A hostile Placement for the reliability tests: a small Placement API on
127.0.0.1 (one compute node, providers, traits, classes, inventories) that
misbehaves on purpose in one of the ways HTTP allows, and records every request
it saw (time, method, path) so a test can assert on the agent's request rate.

The real Placement cannot be made to answer garbage, hang, trickle, send 20 MiB,
redirect or refuse every write: these faults are why this fake exists. What a
real Placement does is tested against the real one (reliability_placement.py).

Modes (FakePlacement(mode=...)):
  ok        a working Placement (noauth: any X-Auth-Token)
  500       every request: 500 with a JSON error body
  garbage   every request: 200 with bytes that are not JSON
  silent    reads the request, never answers (the connection stays open)
  slow      every request: the status line, then one header byte a second
  huge      every request: 200 announcing (and sending) 20 MiB
  chunked   every request: 200 chunked, without end
  redirect  every request: 302 to another port on 127.0.0.1 (counts hits there)
  401       every request but GET /: 401 (GET / answers, as placement's does)
  conflict  GETs work; every write: 409 placement.concurrent_update
  race      works, but the first pool the agent creates was created a moment
            earlier by another run: 409 placement.duplicate_name
"""
import http.server
import json
import socket
import socketserver
import threading
import time
import uuid as uuidlib

VERSIONS = {"versions": [{"id": "v1.0", "min_version": "1.0", "max_version": "1.39", "status": "CURRENT",
                          "links": [{"rel": "self", "href": ""}]}]}


class State:
    def __init__(self, node):
        self.lock = threading.Lock()
        self.node_uuid = str(uuidlib.uuid5(uuidlib.NAMESPACE_DNS, node))
        self.providers = {self.node_uuid: {"uuid": self.node_uuid, "name": node, "generation": 0,
                                           "parent_provider_uuid": None, "root_provider_uuid": self.node_uuid}}
        self.traits = {self.node_uuid: set()}
        self.inventories = {self.node_uuid: {}}
        self.known_traits = set()
        self.known_classes = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-placement"

    def log_message(self, *args):  # quiet
        pass

    def _record(self):
        self.server.owner.requests.append((time.monotonic(), self.command, self.path))

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, obj=None, raw=None, headers=None):
        data = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data or status not in (204, 304):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, detail):
        self._send(status, {"errors": [{"status": status, "title": "error", "detail": detail, "code": code,
                                        "request_id": "req-hostile"}]})

    def _any(self):
        self._record()
        body = self._body()
        mode = self.server.owner.mode
        if mode == "500":
            return self._error(500, "placement.undefined_code", "hostile: internal error")
        if mode == "garbage":
            return self._send(200, raw=b"\x00\xffgarbage<html>not json")
        if mode == "silent":
            self.server.owner.stop.wait(120)
            self.close_connection = True
            return
        if mode == "slow":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            while not self.server.owner.stop.wait(1.0):
                try:
                    self.wfile.write(b"X")
                    self.wfile.flush()
                except OSError:
                    break
            self.close_connection = True
            return
        if mode == "huge":
            size = 20 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
            try:
                while not self.server.owner.stop.is_set():
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "redirect":
            return self._send(302, raw=b"", headers={"Location": self.server.owner.redirect_url + self.path})
        if mode == "401" and self.path != "/":
            return self._send(401, raw=b"401 Unauthorized\n\nThis server could not verify that you are authorized",
                              headers={"WWW-Authenticate": "Keystone uri='http://127.0.0.1:1'"})
        if mode == "conflict" and self.command != "GET":
            return self._error(409, "placement.concurrent_update", "hostile: somebody else wrote first")
        return self._placement(body)

    do_GET = do_PUT = do_POST = do_DELETE = _any

    # The working part: enough of Placement for the agent's pass.
    def _placement(self, body):
        st = self.server.owner.state
        path, _, query = self.path.partition("?")
        parts = [p for p in path.split("/") if p]
        with st.lock:
            if path == "/":
                return self._send(200, VERSIONS)
            if parts[0] == "traits" and len(parts) == 2 and self.command == "PUT":
                new = parts[1] not in st.known_traits
                st.known_traits.add(parts[1])
                return self._send(201 if new else 204)
            if parts[0] == "resource_classes" and len(parts) == 2 and self.command == "PUT":
                new = parts[1] not in st.known_classes
                st.known_classes.add(parts[1])
                return self._send(201 if new else 204)
            if parts[0] != "resource_providers":
                return self._error(404, "placement.undefined_code", "no such path " + path)
            if len(parts) == 1 and self.command == "GET":
                q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
                found = [p for p in st.providers.values()
                         if ("name" not in q or p["name"] == q["name"])
                         and ("in_tree" not in q or p["root_provider_uuid"] == q["in_tree"])]
                return self._send(200, {"resource_providers": found})
            if len(parts) == 1 and self.command == "POST":
                d = json.loads(body)
                if self.server.owner.mode == "race" and d.get("parent_provider_uuid") and not self.server.owner.raced:
                    # another agent run creates the same pool a moment earlier
                    self.server.owner.raced = True
                    u = d["uuid"]
                    st.providers[u] = {"uuid": u, "name": d["name"], "generation": 0,
                                       "parent_provider_uuid": d["parent_provider_uuid"],
                                       "root_provider_uuid": st.node_uuid}
                    st.traits[u] = set()
                    st.inventories[u] = {}
                if any(p["name"] == d["name"] for p in st.providers.values()):
                    return self._error(409, "placement.duplicate_name", "name taken")
                u = d.get("uuid") or str(uuidlib.uuid4())
                parent = d.get("parent_provider_uuid")
                root = st.providers[parent]["root_provider_uuid"] if parent else u
                st.providers[u] = {"uuid": u, "name": d["name"], "generation": 0,
                                   "parent_provider_uuid": parent, "root_provider_uuid": root}
                st.traits[u] = set()
                st.inventories[u] = {}
                return self._send(200, st.providers[u])
            u = parts[1]
            if u not in st.providers:
                return self._error(404, "placement.undefined_code", "no provider " + u)
            p = st.providers[u]
            if len(parts) == 2 and self.command == "DELETE":
                del st.providers[u]
                return self._send(204)
            what = parts[2] if len(parts) > 2 else ""
            if what == "usages":
                return self._send(200, {"resource_provider_generation": p["generation"],
                                        "usages": {rc: 0 for rc in st.inventories[u]}})
            if what in ("traits", "inventories") and self.command == "GET":
                val = sorted(st.traits[u]) if what == "traits" else st.inventories[u]
                return self._send(200, {"resource_provider_generation": p["generation"], what: val})
            if what in ("traits", "inventories") and self.command == "PUT":
                d = json.loads(body)
                if d.get("resource_provider_generation") != p["generation"]:
                    return self._error(409, "placement.concurrent_update", "generation")
                p["generation"] += 1
                if what == "traits":
                    st.traits[u] = set(d["traits"])
                    val = sorted(st.traits[u])
                else:
                    st.inventories[u] = d["inventories"]
                    val = st.inventories[u]
                return self._send(200, {"resource_provider_generation": p["generation"], what: val})
            return self._error(404, "placement.undefined_code", "not handled: " + self.command + " " + path)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakePlacement:
    def __init__(self, mode="ok", node="rel-node"):
        self.mode = mode
        self.raced = False
        self.requests = []
        self.stop = threading.Event()
        self.state = State(node)
        self.node = node
        # where "redirect" points: a listener that only counts connections
        self._sink = socket.socket()
        self._sink.bind(("127.0.0.1", 0))
        self._sink.listen(16)
        self._sink.settimeout(0.2)
        self.redirect_hits = 0
        self.redirect_url = "http://127.0.0.1:%d" % self._sink.getsockname()[1]
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.owner = self
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._threads = [threading.Thread(target=self.server.serve_forever, daemon=True),
                         threading.Thread(target=self._count_sink, daemon=True)]
        for t in self._threads:
            t.start()

    def _count_sink(self):
        while not self.stop.is_set():
            try:
                c, _ = self._sink.accept()
                self.redirect_hits += 1
                c.close()
            except OSError:
                continue

    def count(self, method=None, path_prefix=None, since=0.0):
        return sum(1 for t, m, p in list(self.requests)
                   if t >= since and (method is None or m == method)
                   and (path_prefix is None or p.startswith(path_prefix)))

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._sink.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
