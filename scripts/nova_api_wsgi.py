#!/usr/bin/python3
"""Serve nova's compute API (osapi_compute, Debian python3-nova) on 127.0.0.1
with a small threaded wsgiref server: what /usr/bin/nova-api-wsgi (a pbr script
shipped only by the debconf-heavy nova-common, and by no nova from 2025.2 on)
or a WSGI server given nova.wsgi.osapi_compute:application would do.
The one nova-api launcher of scripts/nova-api-server.sh (flavors only) and
scripts/nova-stack.sh (the whole nova).

STATE_DIR holds api-paste.ini (paste deploy's, read first) and nova.conf (the
caller writes them). Prints "Available at http://127.0.0.1:PORT/" once it
listens; SIGTERM stops it.

Run with /usr/bin/python3 (python3-nova is not importable from pyenv/venv).
Modules for --preload and the paste pipeline's filters come from PYTHONPATH.

The application comes from the module nova documents for WSGI servers,
nova.wsgi.osapi_compute, when this nova has it (31 and 34 do: it sets up the
concurrency mode as its first import, on 34 native threading with eventlet
poisoned, and builds the application on import), else from Zed's
nova.api.openstack.compute.wsgi. Both run without eventlet here
(OS_NOVA_DISABLE_EVENTLET_PATCHING=1 unless the caller set it).
"""
import argparse
import glob
import importlib
import os
import signal
import socketserver
import sys
import wsgiref.simple_server as wss


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="nova_api_wsgi.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("state_dir", metavar="STATE_DIR")
    p.add_argument("port", metavar="PORT", nargs="?", type=int, default=0,
                   help="0 (default) lets the OS pick a free port")
    p.add_argument("--conf-d", action="store_true",
                   help="also read STATE_DIR/nova.conf.d/*.conf after nova.conf, "
                        "in name order (where `gpu-agent nova-config --role api` "
                        "output goes)")
    p.add_argument("--preload", metavar="MODULE", action="append", default=[],
                   help="import MODULE before the application is built, e.g. "
                        "gpu_agent_sqlite (tests/e2e); repeatable")
    p.add_argument("--backlog", metavar="N", type=int, default=128,
                   help="listen backlog (default 128; wsgiref's 5 makes the "
                        "kernel reset connections when many arrive at once)")
    return p.parse_args(argv)


def application():
    """nova's compute API application, built the way this nova release expects."""
    import importlib.util
    # looked up as a file: Zed's nova.wsgi is a module (eventlet's WSGI server)
    # that must not be imported here
    nova_dir = os.path.dirname(importlib.util.find_spec("nova").origin)
    if os.path.isfile(os.path.join(nova_dir, "wsgi", "osapi_compute.py")):
        from nova.wsgi import osapi_compute
        return osapi_compute.application
    from nova.api.openstack.compute.wsgi import init_application
    return init_application()


def main():
    args = parse_args(sys.argv[1:])
    state_dir = os.path.abspath(args.state_dir)

    os.environ.setdefault("OS_NOVA_DISABLE_EVENTLET_PATCHING", "1")
    os.environ["OS_NOVA_CONFIG_DIR"] = state_dir
    # nova's wsgi_app takes the FIRST file as the paste deploy config and
    # gives the rest to oslo.config in order: nova.conf first -> "No section
    # 'osapi_compute'".
    files = ["api-paste.ini", "nova.conf"]
    if args.conf_d:
        files += sorted(os.path.relpath(p, state_dir)
                        for p in glob.glob(os.path.join(state_dir, "nova.conf.d", "*.conf")))
    os.environ["OS_NOVA_CONFIG_FILES"] = ";".join(files)
    # init_application() parses sys.argv as oslo.config CLI arguments.
    sys.argv[1:] = []

    # the preloads first: nova 34's entry module refuses eventlet once it ran
    for module in args.preload:
        importlib.import_module(module)
    app = application()

    class Server(socketserver.ThreadingMixIn, wss.WSGIServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = args.backlog

    class Handler(wss.WSGIRequestHandler):
        def log_message(self, fmt, *args):  # nova's request_log logs already
            pass

    server = wss.make_server("127.0.0.1", args.port, app,
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
