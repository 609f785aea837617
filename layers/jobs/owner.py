"""Which process owns a running import job, and whether that process is still alive.

Each process that runs jobs (the import worker, or `import_dataset` on the command line) holds a
session-level PostgreSQL advisory lock on a connection of its own, keyed by a random token that it writes on
the jobs it runs. PostgreSQL releases the lock the moment that process or its connection dies, so any other
process can tell a job whose runner is gone (clean it up) from one still running elsewhere (leave it alone),
on this machine or another, without clocks or timeouts.
"""
import logging
import os
import secrets
import socket
import threading

import psycopg
from django.db import connection

from sdi.database import connection_kwargs

log = logging.getLogger(__name__)
LOCK_NAMESPACE = 0x5D10B  # first key of pg_advisory_lock(int, int): import-job owners (0x5D1: sign-in slots)
APPLICATION_NAME = "sdi-job-owner-{token}"  # sessions of an owner (its Django connection, ogr2ogr) carry this


class OwnerLease:
    """This process's lock; reacquired on a fresh connection after the database restarted."""

    def __init__(self):
        self.pid = os.getpid()
        self.token = secrets.randbelow(2**31 - 1) + 1
        self.label = f"{socket.gethostname()} pid {self.pid}"
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def hold(self) -> int:
        """Make sure the lock is held (reconnecting if needed) and return the token to write on a job."""
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                try:
                    self._conn.execute("SELECT 1")
                    return self.token
                except psycopg.Error:
                    self._conn.close()
            self._conn = psycopg.connect(
                **connection_kwargs(autocommit=True, application_name=f"sdi-job-lease-{self.token}"))
            self._conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, self.token))
            return self.token

    def release(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_lease: OwnerLease | None = None


def lease() -> OwnerLease:
    """The lease of this process (a forked child gets its own, never its parent's connection)."""
    global _lease
    if _lease is None or _lease.pid != os.getpid():
        _lease = OwnerLease()
        # Sessions opened from now on (ogr2ogr inherits the environment) name their owner, so that the sessions of
        # a dead owner can be ended (layers.jobs.cleanup).
        os.environ["PGAPPNAME"] = APPLICATION_NAME.format(token=_lease.token)
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('application_name', %s, false)", (os.environ["PGAPPNAME"],))
    return _lease


def release_lease() -> None:
    """Close this process's lock connection, if it has one (tests dropping their database)."""
    if _lease is not None and _lease.pid == os.getpid():
        _lease.release()


def owner_is_gone(token: int | None) -> bool:
    """True when no live session holds the owner's lock (None: a job from before owners were recorded)."""
    if token is None:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, token))
        (acquired,) = cursor.fetchone()
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, token))
    return acquired
