"""The provider's connections: one small pool per database and process, and the one retried read.

The provider gets its connection as plain keyword arguments (host, port, dbname, user, password) in its
definition; sdi/database.py builds them from Django's DATABASES, the same way for every psycopg connection.
"""
import logging
import re
import threading
from http import HTTPStatus

from psycopg import errors
from psycopg.adapt import Loader
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout
from pygeoapi.provider.base import ProviderConnectionError, ProviderInvalidQueryError, ProviderQueryError

from layers.serving.options import ServingOptions

log = logging.getLogger(__name__)
CONNECTION_KEYS = ("host", "port", "dbname", "user", "password")
UNKNOWN_SRID = re.compile(r"Cannot find SRID \((\d+)\) in spatial_ref_sys")

_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


class DatabaseUnavailable(ProviderConnectionError):
    """The database cannot be reached: a 503, for clients to retry (pygeoapi answers with this status)."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE


def conninfo_from(data: dict | str, options: ServingOptions = ServingOptions()) -> str:
    if isinstance(data, str):
        return data
    parts = [f"{key}='{str(data[key])}'" for key in CONNECTION_KEYS if data.get(key) not in (None, "")]
    # JIT compilation and parallel workers cost more to start (~0.4 s and ~25 ms) than they save on these
    # short queries; concurrent requests already keep the cores busy. psycopg prepares repeated statements,
    # and a generic plan cannot see the bbox values: always plan with the actual values.
    parts.append(f"options='-c statement_timeout={options.statement_timeout_ms} -c jit=off "
                 f"-c max_parallel_workers_per_gather=0 -c plan_cache_mode=force_custom_plan'")
    return " ".join(parts)


def connection_pool(conninfo: str, size: int = ServingOptions.pool_size) -> ConnectionPool:
    """One small pool per database and process (gunicorn workers each build their own after fork)."""
    pool = _pools.get(conninfo)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(conninfo)
            if pool is None:
                pool = ConnectionPool(
                    conninfo,
                    min_size=1,
                    max_size=size,
                    kwargs={"autocommit": True},
                    # No test of each connection as it is handed out: that was one more round trip per page.
                    # After a database restart every idle connection is dead; `fetch` then tests them all once
                    # and retries (see there).
                    timeout=10,  # seconds to wait for a connection (during an outage: then a 503)
                    name="sdi-provider",
                    open=True,
                )
                _pools[conninfo] = pool
    return pool


def close_pools() -> None:
    """Close every pooled connection (tests dropping their database; process shutdown)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


class TextAsBytes(Loader):
    """A text column as the UTF-8 bytes PostgreSQL sent: a page's JSON (~0.5 MB for 1000 parcels) goes into the
    HTTP response as it came, instead of being decoded into a str and encoded back."""

    def load(self, data) -> bytes:
        return bytes(data)


def fetch(pool: ConnectionPool, query, params=(), text_as_bytes: bool = False) -> list[tuple]:
    """Run a read. A lost connection (a database restart kills every idle one in the pool) makes the pool test
    its idle connections and replace the dead ones, then the read is retried once (every query here is a
    read, so a retry is safe): no request fails once the database is back, and no request pays a round trip
    to test its connection beforehand."""
    try:
        try:
            return _fetch_once(pool, query, params, text_as_bytes)
        except errors.OperationalError as exc:
            if isinstance(exc, (errors.QueryCanceled, PoolTimeout)):  # no connection lost: a retry won't help
                raise
            log.warning("database connection lost (%s); testing the pool's connections and retrying once",
                        (str(exc).strip() or "?").splitlines()[0])
            pool.check()
            return _fetch_once(pool, query, params, text_as_bytes)
    except errors.QueryCanceled:
        raise ProviderQueryError(user_msg="query took too long and was cancelled") from None
    except errors.DataError as exc:
        raise ProviderInvalidQueryError(user_msg=str(exc).splitlines()[0]) from None
    except errors.InternalError_ as exc:
        # A CRS PROJ knows but PostGIS's spatial_ref_sys lacks (filter-crs accepts any EPSG code): the
        # client's choice, so a 400 naming it, not a 500.
        if match := UNKNOWN_SRID.search(str(exc)):
            raise ProviderInvalidQueryError(
                user_msg=f"CRS EPSG:{match.group(1)} cannot be transformed by this server (use one of the "
                         "collection's CRSs)") from None
        raise
    except errors.OperationalError as exc:
        log.error("database unavailable: %s", exc)
        raise DatabaseUnavailable(user_msg="database unavailable, try again shortly") from None


def _fetch_once(pool: ConnectionPool, query, params, text_as_bytes: bool):
    with pool.connection() as conn:
        with conn.cursor(row_factory=tuple_row) as cursor:
            if text_as_bytes:
                cursor.adapters.register_loader("text", TextAsBytes)
            cursor.execute(query, params)
            return cursor.fetchall()
