#!/usr/bin/python3
"""Serve nova's compute API (osapi_compute, Debian python3-nova = Zed) on
127.0.0.1 with a small threaded wsgiref server: what /usr/bin/nova-api-wsgi
(a pbr script shipped only by the debconf-heavy nova-common) would do.

Usage: scripts/nova_api_wsgi.py STATE_DIR [PORT]
  STATE_DIR holds api-paste.ini and nova.conf (scripts/nova-api-server.sh
  writes them). PORT 0 (default) lets the OS pick a free port.
  Prints "Available at http://127.0.0.1:PORT/" once it listens.

Run with /usr/bin/python3 (python3-nova is not importable from pyenv/venv).
"""
import os
import signal
import socketserver
import sys
import wsgiref.simple_server as wss


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) >= 2 else 2
    state_dir = os.path.abspath(sys.argv[1])
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0

    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    os.environ["OS_NOVA_CONFIG_DIR"] = state_dir
    # nova's wsgi_app takes the FIRST file as the paste deploy config and
    # gives the rest to oslo.config: nova.conf first -> "No section
    # 'osapi_compute'".
    os.environ["OS_NOVA_CONFIG_FILES"] = "api-paste.ini;nova.conf"
    # init_application() parses sys.argv as oslo.config CLI arguments.
    sys.argv[1:] = []

    from nova.api.openstack.compute.wsgi import init_application

    app = init_application()

    class Server(socketserver.ThreadingMixIn, wss.WSGIServer):
        daemon_threads = True
        allow_reuse_address = True

    class Handler(wss.WSGIRequestHandler):
        def log_message(self, fmt, *args):  # nova's request_log logs already
            pass

    server = wss.make_server("127.0.0.1", port, app,
                             server_class=Server, handler_class=Handler)

    def stop(signum, frame):
        # unwinds serve_forever() in the main thread; request threads are
        # daemons and die with the process
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print("Available at http://127.0.0.1:%d/" % server.server_port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
