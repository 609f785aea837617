"""Re-decode text loaded from a legacy-encoded source (TCVN3, VNI, Windows-1258) into NFC UTF-8.

GDAL 3.6 cannot decode TCVN3 or VNI, and drops the last letter of Windows-1258 strings, so such sources are
loaded byte-for-byte as Latin-1 (every byte one character, nothing lost) and decoded here.
"""
from django.db import connection
from psycopg import sql

from layers.loading import ImportRefused
from layers.loading.encodings import decode, detect

SAMPLE_ROWS = 2000


def raw_bytes(text: str) -> bytes:
    return text.encode("latin-1")


def redecode_table(schema: str, table: str, text_columns: list[str], encoding: str | None, label: str) -> str:
    """Decode every text column of a table loaded as Latin-1; returns the encoding used (detected if None)."""
    if not text_columns:
        return encoding or "utf-8"
    ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in text_columns)
    with connection.cursor() as cursor:
        if encoding is None:
            cursor.execute(sql.SQL("SELECT {} FROM {} LIMIT %s").format(columns, ident), (SAMPLE_ROWS,))
            samples = [raw_bytes(value) for row in cursor.fetchall() for value in row if value]
            encoding = detect(samples)
        cursor.execute(sql.SQL("SELECT fid, {} FROM {}").format(columns, ident))
        rows = cursor.fetchall()
        updates = []
        for fid, *values in rows:
            try:
                decoded = [decode(raw_bytes(v), encoding) if v is not None else None for v in values]
            except (UnicodeError, ValueError) as exc:
                raise ImportRefused(f"{label}: feature {fid} is not valid {encoding} text ({exc}); choose another encoding") from None
            if decoded != values:
                updates.append((*decoded, fid))
        if updates:
            assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in text_columns)
            cursor.executemany(sql.SQL("UPDATE {} SET {} WHERE fid = %s").format(ident, assignments), updates)
    return encoding
