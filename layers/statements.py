"""Running one composed statement on Django's connection: its rows, or how many rows it touched.

The loader's checks, the sources' sync and the merges all compose SQL with psycopg.sql (identifiers quoted,
values bound) and run it here, on the connection and transaction Django holds.
"""
from django.db import connection


def rows(query, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def execute(query, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.rowcount
