"""CQL2 temporal functions (T_*), each a condition on the begin and end of both sides (OWL-Time relations);
an instant is an interval whose begin and end coincide.

pygeofilter 0.4 parses both T_INTERSECTS and T_OVERLAPS into ``TimeOverlaps``: it is read as T_INTERSECTS.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from psycopg import sql
from pygeofilter import ast, values

from layers.serving.cql2.values import MISMATCH, TEMPORAL, FilterError, refuse, show, to_temporal

if TYPE_CHECKING:
    from layers.serving.cql2.translator import Translator

# (name, joiner, [(bound of a, operator, bound of b), ...]) for a (lhs) and b (rhs)
_TEMPORAL = {
    ast.TimeAfter: ("T_AFTER", "AND", [("begin", ">", "end")]),
    ast.TimeBefore: ("T_BEFORE", "AND", [("end", "<", "begin")]),
    ast.TimeBegins: ("T_BEGINS", "AND", [("begin", "=", "begin"), ("end", "<", "end")]),
    ast.TimeBegunBy: ("T_BEGUNBY", "AND", [("begin", "=", "begin"), ("end", ">", "end")]),
    ast.TimeContains: ("T_CONTAINS", "AND", [("begin", "<", "begin"), ("end", ">", "end")]),
    ast.TimeDisjoint: ("T_DISJOINT", "OR", [("end", "<", "begin"), ("begin", ">", "end")]),
    ast.TimeDuring: ("T_DURING", "AND", [("begin", ">", "begin"), ("end", "<", "end")]),
    ast.TimeEndedBy: ("T_ENDEDBY", "AND", [("begin", "<", "begin"), ("end", "=", "end")]),
    ast.TimeEnds: ("T_ENDS", "AND", [("begin", ">", "begin"), ("end", "=", "end")]),
    ast.TimeEquals: ("T_EQUALS", "AND", [("begin", "=", "begin"), ("end", "=", "end")]),
    ast.TimeMeets: ("T_MEETS", "AND", [("end", "=", "begin")]),
    ast.TimeMetBy: ("T_METBY", "AND", [("begin", "=", "end")]),
    ast.TimeOverlappedBy: ("T_OVERLAPPEDBY", "AND",
                           [("begin", ">", "begin"), ("begin", "<", "end"), ("end", ">", "end")]),
    ast.TimeOverlaps: ("T_INTERSECTS", "AND", [("begin", "<=", "end"), ("end", ">=", "begin")]),
}
_NEG_INFINITY = sql.SQL("'-infinity'::timestamptz")
_POS_INFINITY = sql.SQL("'infinity'::timestamptz")


def temporal_predicate(tr: Translator, node: ast.TemporalPredicate):
    """T_*: every relation is a condition on the begin and end of each side; an instant has begin = end."""
    if type(node) not in _TEMPORAL:
        refuse(node)
    name, joiner, conditions = _TEMPORAL[type(node)]
    a = _bounds(tr, node.lhs, name)
    b = _bounds(tr, node.rhs, name)
    parts, params = [], []
    for left, operator, right in conditions:
        (left_sql, left_params), (right_sql, right_params) = a[left], b[right]
        parts.append(sql.SQL("{} {} {}").format(left_sql, sql.SQL(operator), right_sql))
        params += left_params + right_params
    if len(parts) == 1:
        return parts[0], params
    return sql.SQL("({})").format(sql.SQL(f" {joiner} ").join(parts)), params


def _bounds(tr: Translator, node, function: str) -> dict[str, tuple[sql.Composable, list]]:
    """{'begin': (sql, params), 'end': (sql, params)} of an instant or interval operand."""
    if isinstance(node, values.Interval):
        start, end = node.start, node.end
        if isinstance(start, timedelta) and isinstance(end, timedelta):
            raise FilterError("an INTERVAL needs at least one date or timestamp bound")
        if isinstance(end, timedelta):
            if start is None:
                raise FilterError("an INTERVAL with a duration needs the other bound")
            end = start + end
        if isinstance(start, timedelta):
            if end is None:
                raise FilterError("an INTERVAL with a duration needs the other bound")
            start = end - start
        start, end = (_value(v, function) for v in (start, end))
        try:
            if start is not None and end is not None and start > end:
                raise FilterError(f"INTERVAL starts after it ends: {show(start)} > {show(end)}")
        except TypeError:  # date vs datetime, naive vs aware: PostgreSQL compares them
            pass
        begin = (sql.SQL("%s"), [start]) if start is not None else (_NEG_INFINITY, [])
        finish = (sql.SQL("%s"), [end]) if end is not None else (_POS_INFINITY, [])
        return {"begin": begin, "end": finish}
    if isinstance(node, ast.Node):
        value = tr.expression(node)
        if value.kind not in TEMPORAL:
            raise FilterError(f"{function} needs dates or timestamps; {value.describe()}")
        bound = (value.sql, value.params)
    else:
        bound = (sql.SQL("%s"), [_value(node, function)])
    return {"begin": bound, "end": bound}


def _value(value, function: str):
    if value is None:
        return None
    converted = to_temporal(value)
    if converted is MISMATCH:
        raise FilterError(f"{function} needs dates or timestamps; {show(value)} is neither")
    return converted


PREDICATES = {ast.TemporalPredicate: temporal_predicate}
