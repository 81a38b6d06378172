#!/usr/bin/python3
"""A stand-in for Glance v2 and Neutron v2.0, enough for nova (Zed) to boot,
delete, shelve/unshelve and snapshot servers with "networks": "none" on the
fake virt driver. Images answer as glance does for the calls nova makes:

  GET /, /versions, /v2         version document (openstacksdk/OSC discovery)
  GET /v2/schemas/image[s]      the schemas glanceclient builds its model from
  GET /v2/images                {"images": [...]} (every image, oldest first)
  POST /v2/images               creates ONE image (201, the image: status
                                "queued", size null), as shelve and snapshot do
  GET /v2/images/ID             that image (404 when there is none)
  PATCH /v2/images/ID           JSON patch (add/replace/remove of top-level keys)
  PUT /v2/images/ID/file        the data: status "active", size, checksum (204)
  GET /v2/images/ID/file        the data
  DELETE /v2/images/ID          204 (unshelve deletes its snapshot), 404 after
  GET /v2.0/<collection>        {"<collection>": []} (nova-compute lists ports on delete)
  DELETE /v2.0/...              204
Anything else: 404. The boot image IMAGE_ID exists from the start, active.

Usage: stub_image_network.py [PORT] [STATE_DIR]  (0 or none: a free port). Prints
"listening http://127.0.0.1:PORT" and "image IMAGE_ID" on stdout, then one
line per request.
"""
import copy
import hashlib
import json
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

IMAGE_ID = "9a0e2e57-6b3d-4f6e-9c1a-000000000001"
FIELDS = {
    "id": IMAGE_ID, "name": "gpu-agent-e2e-image", "status": "active",
    "visibility": "public", "protected": False, "os_hidden": False,
    "owner": "admin", "size": 1024, "virtual_size": None, "min_disk": 0,
    "min_ram": 0, "disk_format": "raw", "container_format": "bare",
    "checksum": "d41d8cd98f00b204e9800998ecf8427e", "os_hash_algo": "sha512",
    "os_hash_value": "0" * 128, "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z", "tags": [],
    "file": "/v2/images/%s/file" % IMAGE_ID, "schema": "/v2/schemas/image",
    "self": "/v2/images/%s" % IMAGE_ID,
}
SCHEMA = {
    "name": "image",
    "properties": {k: {} for k in list(FIELDS) + ["direct_url", "locations"]},
    "additionalProperties": {"type": "string"},
    "links": [{"href": "{self}", "rel": "self"},
              {"href": "{file}", "rel": "enclosure"},
              {"href": "{schema}", "rel": "describedby"}],
}
# what glance owns: a create or patch cannot set these
READ_ONLY = {"id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
             "created_at", "updated_at", "file", "schema", "self", "owner"}


class Images:
    def __init__(self):
        self.lock = threading.Lock()
        self.meta = {IMAGE_ID: dict(FIELDS)}
        self.data = {IMAGE_ID: b""}

    @staticmethod
    def now():
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def create(self, body):
        iid = body.get("id") or str(uuid.uuid4())
        with self.lock:
            if iid in self.meta:
                return 409, {"message": "image %s exists" % iid}
            img = {"id": iid, "name": None, "status": "queued", "visibility": "shared",
                   "protected": False, "os_hidden": False, "owner": "admin", "size": None,
                   "virtual_size": None, "min_disk": 0, "min_ram": 0, "disk_format": None,
                   "container_format": None, "checksum": None, "os_hash_algo": None,
                   "os_hash_value": None, "created_at": self.now(), "updated_at": self.now(),
                   "tags": [], "file": "/v2/images/%s/file" % iid, "schema": "/v2/schemas/image",
                   "self": "/v2/images/%s" % iid}
            img.update({k: v for k, v in body.items() if k not in READ_ONLY})
            self.meta[iid] = img
            return 201, copy.deepcopy(img)

    def get(self, iid):
        with self.lock:
            img = self.meta.get(iid)
            return (200, copy.deepcopy(img)) if img else (404, {"message": "no image %s" % iid})

    def patch(self, iid, ops):
        with self.lock:
            img = self.meta.get(iid)
            if not img:
                return 404, {"message": "no image %s" % iid}
            for op in ops if isinstance(ops, list) else []:
                key = op.get("path", "").lstrip("/")
                if key in READ_ONLY:
                    return 403, {"message": "attribute %s is read-only" % key}
                if op.get("op") in ("add", "replace"):
                    img[key] = op.get("value")
                elif op.get("op") == "remove":
                    img.pop(key, None)
            img["updated_at"] = self.now()
            return 200, copy.deepcopy(img)

    def upload(self, iid, data):
        with self.lock:
            img = self.meta.get(iid)
            if not img:
                return 404, {"message": "no image %s" % iid}
            self.data[iid] = data
            img.update(status="active", size=len(data), checksum=hashlib.md5(data).hexdigest(),
                       os_hash_algo="sha512", os_hash_value=hashlib.sha512(data).hexdigest(),
                       updated_at=self.now())
            return 204, None

    def delete(self, iid):
        with self.lock:
            if self.meta.pop(iid, None) is None:
                return 404, {"message": "no image %s" % iid}
            self.data.pop(iid, None)
            return 204, None

    def listing(self):
        with self.lock:
            return 200, {"images": [copy.deepcopy(i) for i in self.meta.values()],
                         "schema": "/v2/schemas/images", "first": "/v2/images"}


IMAGES = Images()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, raw):
        path = urlsplit(self.path).path.rstrip("/")
        if path.endswith(".json"):
            path = path[:-len(".json")]
        cmd = self.command
        if path in ("", "/versions", "/v2"):
            href = "http://%s/v2/" % self.headers.get("Host", "127.0.0.1")
            return 200, {"versions": [{"id": "v2.9", "status": "CURRENT",
                                       "links": [{"rel": "self", "href": href}]}]}
        if path == "/v2/schemas/image":
            return 200, SCHEMA
        if path == "/v2/schemas/images":
            return 200, {"name": "images", "properties": {"images": {"items": SCHEMA}},
                         "links": [{"href": "{first}", "rel": "first"}]}
        parts = path.split("/")
        if path == "/v2/images":
            if cmd == "POST":
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return 400, {"message": "image create: the body is not JSON"}
                return IMAGES.create(body)
            return IMAGES.listing()
        if path.startswith("/v2/images/") and len(parts) == 4:
            if cmd == "PATCH":
                try:
                    return IMAGES.patch(parts[3], json.loads(raw or b"[]"))
                except ValueError:
                    return 400, {"message": "image patch: the body is not JSON"}
            if cmd == "DELETE":
                return IMAGES.delete(parts[3])
            return IMAGES.get(parts[3])
        if path.startswith("/v2/images/") and len(parts) == 5 and parts[4] == "file":
            if cmd == "PUT":
                return IMAGES.upload(parts[3], raw)
            st, img = IMAGES.get(parts[3])
            if st != 200:
                return st, img
            return 200, IMAGES.data.get(parts[3], b"")
        if path.startswith("/v2.0/"):
            if cmd in ("GET", "HEAD"):
                return 200, {path.split("/")[2]: []}
            if cmd == "DELETE":
                return 204, None
        return 404, {"message": "stub: %s %s not served" % (cmd, path)}

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not length and self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self.read_chunked()
        code, body = self.answer(raw)
        if isinstance(body, bytes):
            data, ctype = body, "application/octet-stream"
        else:
            data, ctype = (b"" if body is None else json.dumps(body).encode()), "application/json"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_chunked(self):
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def log_message(self, fmt, *args):
        print("stub " + fmt % args, flush=True)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("image %s" % IMAGE_ID, flush=True)
    print("listening http://127.0.0.1:%d" % srv.server_port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
