"""The entry point: a pygeofilter AST in, a WHERE fragment and its parameters out.

The translator holds what every part needs (queryables, geometry column, storage and filter CRSs) and sends
each node to the module that knows it: layers.serving.cql2.comparison (logic, comparisons, LIKE, IN, arithmetic),
.spatial (S_*, BBOX, geometry literals), .temporal (T_*), .functions (CASEI, ACCENTI). Nodes without a
handler are refused by name, so the client gets a 400 saying what is missing.
"""
from __future__ import annotations

from datetime import time, timedelta

from psycopg import sql
from pygeofilter import ast, values

from layers.serving.cql2 import comparison, functions, spatial, temporal
from layers.serving.cql2.filter_crs import FilterInCRS
from layers.serving.cql2.values import (
    A_KIND, CONVERT, KINDS, MISMATCH, Expr, FilterError, compatible, field_kind, is_number, literal_kind, refuse,
    show,
)
from layers.crs import CRS, CRS84_URI

PREDICATES = {**comparison.PREDICATES, **spatial.PREDICATES, **temporal.PREDICATES}
EXPRESSIONS = {**comparison.EXPRESSIONS, **functions.EXPRESSIONS}


def translate(node, *, fields: dict[str, dict], geometry_column: str, storage_srid: int,
              table_alias: str = "t") -> tuple[sql.Composable, list]:
    """The WHERE fragment (without ``WHERE``) and its parameters for a pygeofilter AST.

    ``node``: the AST, or a ``FilterInCRS`` carrying the filter-crs (bare, its coordinates are CRS84);
    ``fields``: queryable name -> JSON Schema (``{"type": "integer"}``, ``{"type": "string", "format": "date"}``);
    ``geometry_column``: also accepted under the name ``geometry``; literals are transformed from their CRS
    into ``storage_srid`` in PostGIS (VN-2000 pinned to EPSG:6960, layers.crs.sql).
    """
    filter_crs = CRS84_URI
    if isinstance(node, FilterInCRS):
        node, filter_crs = node.filter, node.crs
    crs = spatial.crs_named(filter_crs, "filter-crs")
    return Translator(fields, geometry_column, int(storage_srid), crs, table_alias).predicate(node)


def _handler(table: dict, node):
    return next((table[cls] for cls in type(node).__mro__ if cls in table), None)


class Translator:
    def __init__(self, fields, geometry_column, storage_srid: int, filter_crs: CRS, alias: str):
        self.fields = fields
        self.geometry_column = geometry_column
        self.storage_srid = storage_srid
        self.filter_crs = filter_crs  # the CRS of literals that do not name their own
        self.alias = alias

    def predicate(self, node) -> tuple[sql.Composable, list]:
        """A condition: (SQL, params)."""
        handler = _handler(PREDICATES, node)
        if handler is not None:
            return handler(self, node)
        if not isinstance(node, ast.Node):
            raise FilterError(f"{show(node)} is a value, not a condition")
        if isinstance(node, ast.Attribute):
            raise FilterError(f"{node.name} is a value, not a condition")
        if isinstance(node, ast.Expression):
            raise FilterError("a function or arithmetic expression is a value, not a condition")
        refuse(node)

    def expression(self, node, expect: Expr | None = None) -> Expr:
        """A value: properties, functions, arithmetic; literals become typed parameters."""
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        handler = _handler(EXPRESSIONS, node)
        if handler is not None:
            return handler(self, node)
        if isinstance(node, ast.Node):
            refuse(node)
        return self.literal(node, expect)

    def attribute(self, node: ast.Attribute) -> Expr:
        """Only queryables reach the SQL, and only as quoted identifiers."""
        name = node.name
        if name in self.fields:
            kind = field_kind(self.fields[name])
            if kind not in KINDS:
                raise FilterError(f"property {name} (type {kind}) cannot be used in filters")
            return Expr(sql.Identifier(self.alias, name), [], kind, name, is_property=True)
        if name in (self.geometry_column, "geometry"):
            return Expr(sql.Identifier(self.alias, self.geometry_column), [], "geometry", name, is_property=True)
        queryables = ", ".join([*self.fields, "geometry"])
        raise FilterError(f"unknown queryable '{name}' (queryables: {queryables})")

    def pair(self, lhs_node, rhs_node) -> tuple[Expr, Expr]:
        """Translate two operands, typing a literal after the expression on the other side."""
        if not isinstance(lhs_node, ast.Node) and isinstance(rhs_node, ast.Node):
            rhs = self.expression(rhs_node)
            return self.operand(lhs_node, rhs), rhs
        lhs = self.expression(lhs_node)
        return lhs, self.operand(rhs_node, lhs)

    def operand(self, node, other: Expr, context: str | None = None) -> Expr:
        """An operand that must be comparable with `other` (a literal is converted to other's type)."""
        if not isinstance(node, ast.Node):
            return self.literal(node, other, context)
        value = self.expression(node)
        if not compatible(value.kind, other.kind):
            if context:
                raise FilterError(f"{context} needs numbers; {value.describe()}")
            raise FilterError(f"cannot compare {value.label} with {other.label}: "
                              f"{value.describe()}, {other.describe()}")
        return value

    def literal(self, value, expect: Expr | None = None, context: str | None = None) -> Expr:
        """A client value as a typed bound parameter (never SQL text)."""
        if isinstance(value, (values.Geometry, values.Envelope)):
            geometry = spatial.geometry_literal(self, value)
            if expect is not None and expect.kind != "geometry":
                raise FilterError(f"{expect.describe()}; a geometry cannot be compared with it")
            return geometry
        if isinstance(value, values.Interval):
            raise FilterError("an INTERVAL can only be used in a temporal function (T_BEFORE, T_DURING, …)")
        if isinstance(value, (list, tuple)):
            raise FilterError("array literals are not supported")
        if isinstance(value, (time, timedelta)) or value is None:
            raise FilterError(f"unsupported value {show(value)}")
        kind = expect.kind if expect is not None else literal_kind(value)
        if kind == "geometry":
            raise FilterError(f"{expect.describe()}; {show(value)} is not a geometry (use a spatial function)")
        converted = CONVERT[kind](value)
        if converted is MISMATCH:
            if context:
                raise FilterError(f"{context} needs numbers; {show(value)} is not a number")
            raise FilterError(f"{expect.describe()}; {show(value)} is not {A_KIND[kind]}"
                              + (f" (quote it: '{value}')" if kind == "string" and is_number(value) else ""))
        return Expr(sql.SQL("%s"), [converted], kind, show(value))

    def as_text(self, expr: Expr) -> Expr:
        """String properties may be varchar, text or something else declared a string: text functions need text."""
        if expr.is_property:
            return Expr(sql.SQL("{}::text").format(expr.sql), expr.params, expr.kind, expr.label, True)
        return expr
