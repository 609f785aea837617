"""Planner statistics and B-tree indexes on a published table's attribute columns, so filters, sortby and
exact counts use them.

Done right after the table is published (the data is already served and correct; queries only get faster),
with CREATE INDEX CONCURRENTLY so readers are never blocked.
"""
import hashlib

from django.db import connection
from psycopg import sql

INDEXABLE_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean", "date",
                   "timestamp without time zone", "timestamp with time zone", "text", "character varying")


def index_name(table: str, column: str) -> str:
    name = f"{table}_{column}_idx"
    if len(name) <= 63 and name.isascii():
        return name
    return f"{table[:40]}_{hashlib.sha1(column.encode()).hexdigest()[:12]}_idx"


def index_attributes(schema: str, table: str, skip: tuple[str, ...] = ("fid", "geom"), *,
                     concurrently: bool = True) -> list[str]:
    """Analyse the table and create the missing attribute indexes; returns the columns indexed.

    `concurrently=False` for a caller that knows no one else writes the table meanwhile: a plain CREATE INDEX
    still lets readers in, reads the table once (CONCURRENTLY reads it twice) and waits for no one."""
    how = sql.SQL("CONCURRENTLY ") if concurrently else sql.SQL("")
    with connection.cursor() as cursor:
        # VACUUM also sets the visibility map, so paging by id can use index-only scans.
        cursor.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "AND data_type = ANY(%s) ORDER BY ordinal_position",
            (schema, table, list(INDEXABLE_TYPES)),
        )
        columns = [name for (name,) in cursor.fetchall() if name not in skip]
        for column in columns:
            cursor.execute(sql.SQL("CREATE INDEX {}IF NOT EXISTS {} ON {}.{} ({})").format(
                how, sql.Identifier(index_name(table, column)), sql.Identifier(schema), sql.Identifier(table),
                sql.Identifier(column)))
    return columns
