"""Logic, comparisons, BETWEEN, LIKE, IN, IS NULL and arithmetic.

NULL follows SQL's three-valued logic (``NOT Dan_So = 5`` does not match rows whose Dan_So is NULL). LIKE
follows CQL2 (``%`` any string, ``_`` one character, ``\\`` escapes), which is PostgreSQL's own LIKE syntax;
pygeofilter 0.4's LIKE nodes carry ``singlechar='.'``, which contradicts CQL2 and is ignored.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import sql
from pygeofilter import ast

from layers.serving.cql2.values import NUMERIC, TEMPORAL, Expr, FilterError, show

if TYPE_CHECKING:
    from layers.serving.cql2.translator import Translator

_COMPARISONS = {ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
                ast.GreaterThan: ">", ast.GreaterEqual: ">="}
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mul: "*", ast.Div: "/"}


def combination(tr: Translator, node: ast.Combination):
    lhs, lhs_params = tr.predicate(node.lhs)
    rhs, rhs_params = tr.predicate(node.rhs)
    joiner = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
    return sql.SQL("({})").format(joiner.join([lhs, rhs])), lhs_params + rhs_params


def negation(tr: Translator, node: ast.Not):
    inner, params = tr.predicate(node.sub_node)
    return sql.SQL("NOT ({})").format(inner), params


def include(tr: Translator, node: ast.Include):
    """INCLUDE / EXCLUDE: all or nothing."""
    return sql.SQL("FALSE" if node.not_ else "TRUE"), []


def comparison(tr: Translator, node: ast.Comparison):
    """= <> < <= > >=: both sides of compatible types; literals converted to the other side's type."""
    operator = _COMPARISONS[type(node)]
    lhs, rhs = tr.pair(node.lhs, node.rhs)
    if lhs.kind == "geometry":
        raise FilterError(f"'{operator}' cannot compare geometries; use S_EQUALS or another spatial function")
    return sql.SQL("{} {} {}").format(lhs.sql, sql.SQL(operator), rhs.sql), lhs.params + rhs.params


def between(tr: Translator, node: ast.Between):
    lhs = tr.expression(node.lhs)
    if lhs.kind not in NUMERIC | TEMPORAL | {"string"}:
        raise FilterError(f"BETWEEN needs numbers, strings or dates; {lhs.describe()}")
    low = tr.operand(node.low, lhs)
    high = tr.operand(node.high, lhs)
    template = "{} NOT BETWEEN {} AND {}" if node.not_ else "{} BETWEEN {} AND {}"
    return sql.SQL(template).format(lhs.sql, low.sql, high.sql), lhs.params + low.params + high.params


def like(tr: Translator, node: ast.Like):
    """CQL2 LIKE: % any string, _ one character, \\ escapes the next one (PostgreSQL's own LIKE syntax)."""
    lhs = tr.expression(node.lhs)
    if lhs.kind != "string":
        raise FilterError(f"LIKE needs a string; {lhs.describe()}")
    lhs = tr.as_text(lhs)
    for text in _string_literals(node.pattern):
        _check_like_pattern(text)
    pattern = tr.operand(node.pattern, lhs)
    operator = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
    return sql.SQL("{} {} {}").format(lhs.sql, sql.SQL(operator), pattern.sql), lhs.params + pattern.params


def in_list(tr: Translator, node: ast.In):
    """IN (a, b, …): one placeholder per item, so each is converted and bound like any other value."""
    lhs = tr.expression(node.lhs)
    if lhs.kind == "geometry":
        raise FilterError("IN cannot compare geometries")
    items = [tr.operand(item, lhs) for item in node.sub_nodes]
    template = "{} NOT IN ({})" if node.not_ else "{} IN ({})"
    params = lhs.params + [p for item in items for p in item.params]
    return sql.SQL(template).format(lhs.sql, sql.SQL(", ").join(item.sql for item in items)), params


def is_null(tr: Translator, node: ast.IsNull):
    """A literal is never NULL (and a lone untyped parameter would leave PostgreSQL guessing its type)."""
    lhs = tr.expression(node.lhs)
    if not isinstance(node.lhs, ast.Node):
        return sql.SQL("TRUE" if node.not_ else "FALSE"), []
    return sql.SQL("{} IS NOT NULL" if node.not_ else "{} IS NULL").format(lhs.sql), lhs.params


def arithmetic(tr: Translator, node: ast.Arithmetic) -> Expr:
    """+ - * / on numbers, computed as numeric (no integer overflow, no integer division); x / 0 is NULL."""
    operator = _ARITHMETIC[type(node)]
    number = Expr(sql.SQL(""), [], "number", "a number")
    lhs = tr.operand(node.lhs, number, context=f"arithmetic ({operator})")
    rhs = tr.operand(node.rhs, number, context=f"arithmetic ({operator})")
    if operator == "/" and not isinstance(node.rhs, ast.Node) and rhs.params == [0]:
        raise FilterError("division by zero")
    left, right = (e.sql if isinstance(n, ast.Arithmetic) else sql.SQL("{}::numeric").format(e.sql)
                   for n, e in ((node.lhs, lhs), (node.rhs, rhs)))
    if operator == "/":
        right = sql.SQL("NULLIF({}, 0)").format(right)
    return Expr(sql.SQL("({} {} {})").format(left, sql.SQL(operator), right), lhs.params + rhs.params,
                "number", f"{lhs.label} {operator} {rhs.label}")


def _string_literals(node):
    """The string literals inside a LIKE pattern (a literal, or CASEI/ACCENTI of one)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, ast.Function):
        for argument in node.arguments:
            yield from _string_literals(argument)


def _check_like_pattern(pattern: str) -> None:
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise FilterError(f"LIKE pattern {show(pattern)} ends with the escape character \\")


PREDICATES = {ast.Combination: combination, ast.Not: negation, ast.Include: include, ast.Comparison: comparison,
              ast.Between: between, ast.Like: like, ast.In: in_list, ast.IsNull: is_null}
EXPRESSIONS = {ast.Arithmetic: arithmetic}
