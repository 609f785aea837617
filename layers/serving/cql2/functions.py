"""CQL2 functions: CASEI -> lower(), ACCENTI -> unaccent() (extension `unaccent`; folds đ/Đ too), and the
CQL2-text BBOX literal.

pygeofilter 0.4 quirks: CASEI arrives as ``Function('lower')``; ACCENTI as ``Function('accenti')`` in CQL2 text
only (its CQL2-JSON parser rejects ``{"op": "accenti"}``; ``{"function": {"name": "accenti", ...}}`` works);
``BBOX(...)`` as a literal arrives as ``Function('bbox', [numbers])``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import sql
from pygeofilter import ast

from layers.serving.cql2 import spatial
from layers.serving.cql2.values import Expr, FilterError, is_number, nfc, show

if TYPE_CHECKING:
    from layers.serving.cql2.translator import Translator

_TEXT_FUNCTIONS = {"lower": ("CASEI", "lower"), "casei": ("CASEI", "lower"), "accenti": ("ACCENTI", "unaccent")}


def function(tr: Translator, node: ast.Function) -> Expr:
    name = node.name.lower()
    if name == "bbox":
        if not all(is_number(a) for a in node.arguments):
            raise FilterError("BBOX takes 4 or 6 numbers")
        return spatial.box(tr, list(node.arguments), None)
    if name not in _TEXT_FUNCTIONS:
        raise FilterError(f"unsupported function '{node.name}' (supported: CASEI, ACCENTI)")
    cql_name, pg_function = _TEXT_FUNCTIONS[name]
    if len(node.arguments) != 1:
        raise FilterError(f"{cql_name} takes exactly one argument")
    (argument,) = node.arguments
    if isinstance(argument, ast.Node):
        inner = tr.expression(argument)
        if inner.kind != "string":
            raise FilterError(f"{cql_name} needs a string; {inner.describe()}")
        inner = tr.as_text(inner)
    else:
        if not isinstance(argument, str):
            raise FilterError(f"{cql_name} needs a string; {show(argument)} is not a string")
        inner = Expr(sql.SQL("%s::text"), [nfc(argument)], "string", show(argument))
    return Expr(sql.SQL("{}({})").format(sql.SQL(pg_function), inner.sql), inner.params, "string",
                f"{cql_name}({inner.label})")


EXPRESSIONS = {ast.Function: function}
