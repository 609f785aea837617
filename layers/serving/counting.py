"""numberMatched: exact whenever it is given.

Unfiltered it is the registry's count (the loader measured it); filtered it is counted when the client asks
(resulttype=hits) or when the planner expects few rows, and left out when counting would mean scanning a large
share of a big table for one page."""
from collections.abc import Callable

from psycopg import sql

from layers.serving.page_sql import Table, Where

Fetch = Callable[..., list[tuple]]


def number_matched(fetch: Fetch, table: Table, condition: Where, *, registry_count: int | None,
                   can_count: bool, needed: bool, asked: bool, max_rows: int) -> int | None:
    """`needed`: the page needs it (a cursor page does not: the client saw it on the first page)."""
    if not condition.filtered and registry_count is not None:
        return int(registry_count)
    if not can_count or not (needed or asked):
        return None
    if not asked and condition.filtered and estimated_rows(fetch, table, condition) > max_rows:
        return None
    query = sql.SQL("SELECT count(*) FROM {table} t {where}").format(table=table.qualified(), where=condition.clause)
    return fetch(query, condition.params)[0][0]


def estimated_rows(fetch: Fetch, table: Table, condition: Where) -> float:
    query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} t {where}").format(
        table=table.qualified(), where=condition.clause)
    plan = fetch(query, condition.params)[0][0]
    return plan[0]["Plan"]["Plan Rows"]
