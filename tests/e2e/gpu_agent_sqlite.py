"""SQLite for several nova processes at once (scripts/nova-stack.sh imports this
into nova-api, conductor, scheduler and the computes before nova's code runs).

Every SQLAlchemy transaction on a SQLite database starts with BEGIN IMMEDIATE
and waits up to 60 s for the lock. With oslo.db's deferred BEGIN a transaction that read first and writes
later fails at once with "database is locked" when another process committed in
between; the busy timeout cannot help there. On a loaded 2-core machine that
hit nova's instance.save() during boots and deletes (the server went to
ERROR). Taking the write lock up front serializes the few writers instead.
Only sqlite3 connections are touched.
"""
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool


@event.listens_for(Pool, "connect")
def _connect(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA busy_timeout = 60000")


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _immediate(conn, cursor, statement, parameters, context, executemany):
    # oslo.db turns pysqlite's own BEGIN off and emits "BEGIN" itself when a
    # transaction starts: make it take the write lock at once
    if statement == "BEGIN" and conn.dialect.name == "sqlite":
        statement = "BEGIN IMMEDIATE"
    return statement, parameters
