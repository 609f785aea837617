"""The benchmark database: the project-local cluster of deploy/postgis.sh, unless DATABASE_URL names another."""
import os
import urllib.parse

# The project-local cluster of deploy/postgis.sh (SDI_PG_PORT, as `make`), unless DATABASE_URL names another.
DATABASE_URL = os.environ.get("DATABASE_URL") or \
    f"postgis://sdi:sdi@127.0.0.1:{os.environ.get('SDI_PG_PORT', '54329')}/sdi"


def db_params() -> dict:
    parts = urllib.parse.urlsplit(DATABASE_URL)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "dbname": parts.path.lstrip("/"),
            "user": urllib.parse.unquote(parts.username or ""), "password": urllib.parse.unquote(parts.password or "")}


def sql(query: str, *params):
    import psycopg
    p = db_params()
    with psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"],
                         password=p["password"], autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []
