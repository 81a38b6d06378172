#!/usr/bin/python3
"""nova's compute API for scripts/nova-stack.sh: a threaded wsgiref server on
127.0.0.1 (what nova-common's /usr/bin/nova-api-wsgi would do).

Usage: nova_api_launcher.py STATE_DIR
  Reads STATE_DIR/api-paste.ini, STATE_DIR/nova.conf and then every
  STATE_DIR/nova.conf.d/*.conf in name order (nova-config's --role api output
  goes there). Picks a free port; prints "listening http://127.0.0.1:PORT/".
The paste pipeline needs gpu_agent_noauth_token (this directory) on sys.path.
"""
import glob
import os
import signal
import socketserver
import sys
import wsgiref.simple_server as wss

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    state = os.path.abspath(sys.argv[1])
    sys.path.insert(0, HERE)
    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    os.environ["OS_NOVA_CONFIG_DIR"] = state
    extra = sorted(os.path.relpath(p, state) for p in glob.glob(os.path.join(state, "nova.conf.d", "*.conf")))
    # the first file is paste deploy's, the rest go to oslo.config in order
    os.environ["OS_NOVA_CONFIG_FILES"] = ";".join(["api-paste.ini", "nova.conf"] + extra)
    sys.argv[1:] = []
    from nova.api.openstack.compute.wsgi import init_application
    import gpu_agent_sqlite  # noqa: F401  BEGIN IMMEDIATE on the shared SQLite files
    app = init_application()

    class Server(socketserver.ThreadingMixIn, wss.WSGIServer):
        daemon_threads = True

    class Quiet(wss.WSGIRequestHandler):
        def log_message(self, fmt, *args):
            pass

    srv = wss.make_server("127.0.0.1", 0, app, server_class=Server, handler_class=Quiet)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("listening http://127.0.0.1:%d/" % srv.server_port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
