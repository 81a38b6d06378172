#!/usr/bin/python3
"""nova's databases for scripts/nova-stack.sh in ONE Python process: the four
nova-manage commands (api_db sync; cell_v2 map_cell0; cell_v2 create_cell
--name cell1; db sync) cost one nova import instead of four (about 15 s less
on a busy 2-core machine). Then each SQLite file given with --wal is switched to
write-ahead logging: readers (nova-api, the tests) no longer block the
conductor's writes, which otherwise fail with "database is locked" when two
computes, the scheduler and the API share the files on a loaded machine.

Usage: nova_db_setup.py CELL0_URL [--wal FILE]... -- NOVA_MANAGE_CONFIG_ARGS...
  e.g. nova_db_setup.py sqlite:///S/nova_cell0.sqlite --wal S/nova_api.sqlite -- --config-file S/nova.conf
Exit status: the first failing command's, else 0.
"""
import sqlite3
import sys

from nova.cmd import manage


def main():
    args = sys.argv[1:]
    if "--" not in args or not args[0].startswith("sqlite") and not args[0].startswith("mysql"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sep = args.index("--")
    cell0, opts, conf_args = args[0], args[1:sep], args[sep + 1:]
    wal = [opts[i + 1] for i in range(len(opts) - 1) if opts[i] == "--wal"]
    original = manage.config.parse_args

    def parse_args(argv, default_config_files=None, configure_db=True, init_rpc=True):
        # the DB facades are configured once (the same [database]/[api_database]
        # each time); oslo.db refuses to configure a started facade again
        return original(argv, default_config_files, parse_args.first, init_rpc)

    parse_args.first = True
    manage.config.parse_args = parse_args
    for cmd in (["api_db", "sync"],
                ["cell_v2", "map_cell0", "--database_connection", cell0],
                ["cell_v2", "create_cell", "--name", "cell1", "--verbose"],
                ["db", "sync"]):
        manage.CONF.clear()  # nova-manage registers its CLI options on each main()
        sys.argv = ["nova-manage"] + conf_args + cmd
        rc = manage.main()
        parse_args.first = False
        print("nova-manage %s -> %s" % (" ".join(cmd), rc), flush=True)
        if rc:
            return rc
    for path in wal:
        db = sqlite3.connect(path, timeout=60)
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        db.close()
        print("%s: journal_mode %s" % (path, mode), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
