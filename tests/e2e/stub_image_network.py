#!/usr/bin/python3
"""A stand-in for Glance v2 and Neutron v2.0, enough for nova (Zed) to boot and
delete servers with "networks": "none" on the fake virt driver.

  GET /, /versions, /v2         version document (openstacksdk/OSC discovery)
  GET /v2/schemas/image         the schema glanceclient builds its model from
  GET /v2/images[/ID]           one active raw image, IMAGE_ID
  GET /v2.0/<collection>        {"<collection>": []} (nova-compute lists ports on delete)
  DELETE /v2.0/...              204
Anything else: 404.

Usage: stub_image_network.py [PORT]  (0 or none: a free port). Prints
"listening http://127.0.0.1:PORT" and "image IMAGE_ID" on stdout.
"""
import json
import signal
import sys
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        path = urlsplit(self.path).path.rstrip("/")
        if path.endswith(".json"):
            path = path[:-len(".json")]
        if path in ("", "/versions", "/v2"):
            href = "http://%s/v2/" % self.headers.get("Host", "127.0.0.1")
            return 200, {"versions": [{"id": "v2.9", "status": "CURRENT",
                                       "links": [{"rel": "self", "href": href}]}]}
        if path == "/v2/schemas/image":
            return 200, SCHEMA
        if path == "/v2/images":
            return 200, {"images": [FIELDS], "schema": "/v2/schemas/images"}
        if path.startswith("/v2/images/"):
            return (200, FIELDS) if path.split("/")[3] == IMAGE_ID else (404, {"message": "no such image"})
        if path.startswith("/v2.0/"):
            if self.command in ("GET", "HEAD"):
                return 200, {path.split("/")[2]: []}
            if self.command == "DELETE":
                return 204, None
        return 404, {"message": "stub: %s %s not served" % (self.command, path)}

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        code, body = self.answer()
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

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
