#!/usr/bin/python3
"""Serve OpenStack Placement's WSGI application with the standard library.

Placement 16 (2026.2) and later ship no placement-api script, only the WSGI
application (placement.wsgi.api:application, for uwsgi or mod_wsgi). This
runner serves it the way the old script did (wsgiref, one request at a time,
which suits its SQLite database) and prints the same "Available at" line that
scripts/placement-server.sh waits for. Placement reads its configuration from
$OS_PLACEMENT_CONFIG_DIR/placement.conf.

Usage: placement_wsgi.py [--host 127.0.0.1] [--port 0]
"""
import argparse
import importlib
import sys
import wsgiref.simple_server as wss


def application():
    """The WSGI application: placement.wsgi.init_application where it exists
    (every release so far), else the module-level placement.wsgi.api:application."""
    try:
        wsgi = importlib.import_module("placement.wsgi")
        init = getattr(wsgi, "init_application", None)
        if init is not None:
            return init()
        return importlib.import_module("placement.wsgi.api").application
    except ImportError as e:
        sys.exit(f"placement_wsgi: cannot import Placement ({e}): install python3-placement")


class QuietHandler(wss.WSGIRequestHandler):
    """One line per request on stderr, like placement-api, without a DNS lookup."""

    def address_string(self):
        return self.client_address[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: the OS picks a free port")
    args = parser.parse_args()
    # Placement 16 hands sys.argv to oslo.config, which refuses our options.
    sys.argv = sys.argv[:1]
    app = application()
    server = wss.make_server(args.host, args.port, app, handler_class=QuietHandler)
    print(f"Available at http://{args.host}:{server.server_port}/", flush=True)
    print("DANGER! For testing only, do not use in production", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
