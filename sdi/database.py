"""The one way to open a psycopg connection outside Django's ORM (the provider's pool, the import worker's
LISTEN and lock connections): keyword arguments built from Django's DATABASES."""
from django.conf import settings


def connection_kwargs(alias: str = "default", **extra) -> dict:
    """psycopg.connect() keyword arguments for a Django database, plus `extra` (autocommit, application_name…)."""
    db = settings.DATABASES[alias]
    return {
        "host": db.get("HOST") or "localhost",
        "port": int(db.get("PORT") or 5432),
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "connect_timeout": int(db.get("OPTIONS", {}).get("connect_timeout", 10)),
        **extra,
    }
