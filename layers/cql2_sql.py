"""CQL2 filters, as parsed by pygeofilter 0.4, translated into a PostgreSQL/PostGIS WHERE fragment.

``translate(node, fields=..., geometry_column=..., storage_srid=...)`` returns ``(fragment, params)``: a
``psycopg.sql.Composable`` to put after ``WHERE`` and the list of values for its ``%s`` placeholders, in order.

Rules that keep it safe and predictable:

* every value written by the client (strings, numbers, dates, geometries, LIKE patterns, list items) is a
  bound parameter; only property names reach the SQL text, through ``sql.Identifier``, and only when they are
  queryables (``fields`` or the geometry column);
* values are converted in Python to the property's declared type (``fields[name]``: JSON Schema ``type`` and
  ``format``) so that PostgreSQL compares like with like and can use the column's index; a value that does not
  fit is refused with ``FilterError`` (a ``ValueError``: the provider answers 400, never 500);
* NULL follows SQL's three-valued logic (``NOT Dan_So = 5`` does not match rows whose Dan_So is NULL).

Free of Django on purpose, like the provider that uses it. Quirks of pygeofilter 0.4 handled here:

* ``CASEI`` arrives as ``Function('lower')``; ``ACCENTI`` as ``Function('accenti')`` in CQL2 text only (its
  CQL2-JSON parser rejects ``{"op": "accenti"}``; ``{"function": {"name": "accenti", ...}}`` works);
* LIKE nodes carry ``singlechar='.'``, which contradicts CQL2: patterns are read as CQL2 says (``%`` any string,
  ``_`` one character, ``\\`` escapes), which is also PostgreSQL's own LIKE syntax;
* ``T_INTERSECTS`` and ``T_OVERLAPS`` both become ``TimeOverlaps``; it is translated as T_INTERSECTS;
* the CQL2-JSON ``{"bbox": [minx, miny, maxx, maxy]}`` literal lands in ``Envelope(x1, x2, y1, y2)`` in the
  wrong slots (pygeofilter issue #163), while CQL2-text ``ENVELOPE(minx maxx miny maxy)`` fills them as named;
  see ``_envelope_bounds``;
* ``BBOX(...)`` as a literal (CQL2 text) arrives as ``Function('bbox', [numbers])``.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import singledispatchmethod

import shapely.geometry
from psycopg import sql
from pygeofilter import ast, values
from shapely.validation import explain_validity

_CONF = "http://www.opengis.net/spec/cql2/1.0/conf/"
SUPPORTED_CONFORMANCE = [
    _CONF + name
    for name in (
        "basic-cql2",
        "advanced-comparison-operators",
        "case-insensitive-comparison",
        "accent-insensitive-comparison",
        "basic-spatial-functions",
        "basic-spatial-functions-plus",
        "spatial-functions",
        "arithmetic",
        "cql2-text",
        "cql2-json",
    )
]
"""Conformance classes implemented and tested (tests/test_cql2_sql.py). Not claimed: temporal-functions (the
T_* functions are translated, but pygeofilter 0.4 parses T_OVERLAPS as T_INTERSECTS, has no T_DISJOINT and no
date or open intervals in CQL2 text), array-functions, functions; property-property comparisons work (both
sides typed) but that class is not claimed."""

CRS84_SRID = 4326
LAT_LON_FIRST = {4326, 4756}  # EPSG CRSs whose authority axis order is latitude first
_EPSG = re.compile(r"(?:/EPSG/\d+/|EPSG::?)(\d+)$", re.IGNORECASE)

NUMERIC = {"integer", "number"}
TEMPORAL = {"date", "date-time"}
KINDS = {"string", "integer", "number", "boolean", "date", "date-time", "geometry"}
_A_KIND = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
           "date": "a date", "date-time": "a timestamp", "geometry": "a geometry"}


class FilterError(ValueError):
    """The filter cannot be run: unknown property, value of the wrong type or unsupported CQL2 construct."""


def translate(node, *, fields: dict[str, dict], geometry_column: str, storage_srid: int,
              table_alias: str = "t") -> tuple[sql.Composable, list]:
    """The WHERE fragment (without ``WHERE``) and its parameters for a pygeofilter AST.

    ``fields``: queryable name -> JSON Schema (``{"type": "integer"}``, ``{"type": "string", "format": "date"}``);
    ``geometry_column``: also accepted under the name ``geometry``; geometry literals without a CRS are taken to be
    in ``storage_srid`` (pygeoapi's ``modify_pygeofilter`` has already transformed them and tagged their CRS);
    BBOX coordinates without a CRS are CRS84 (pygeoapi does not transform them).
    """
    return _Translator(fields, geometry_column, int(storage_srid), table_alias).predicate(node)


@dataclass(frozen=True)
class _Expr:
    """A translated value expression: SQL, its parameters, its CQL2 type and how to name it in messages."""

    sql: sql.Composable
    params: list
    kind: str
    label: str
    is_property: bool = False

    def describe(self) -> str:
        return f"{self.label} is {_A_KIND[self.kind]}{' property' if self.is_property else ''}"


_COMPARISONS = {ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
                ast.GreaterThan: ">", ast.GreaterEqual: ">="}
_SPATIAL = {
    ast.GeometryIntersects: ("S_INTERSECTS", "ST_Intersects"), ast.GeometryDisjoint: ("S_DISJOINT", "ST_Disjoint"),
    ast.GeometryContains: ("S_CONTAINS", "ST_Contains"), ast.GeometryWithin: ("S_WITHIN", "ST_Within"),
    ast.GeometryTouches: ("S_TOUCHES", "ST_Touches"), ast.GeometryCrosses: ("S_CROSSES", "ST_Crosses"),
    ast.GeometryOverlaps: ("S_OVERLAPS", "ST_Overlaps"), ast.GeometryEquals: ("S_EQUALS", "ST_Equals"),
}
# CQL2 temporal functions (OWL-Time relations) as conditions on the bounds of a (lhs) and b (rhs); an instant is
# an interval whose begin and end coincide. (joiner, [(bound of a, operator, bound of b), ...])
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
    # pygeofilter parses both T_INTERSECTS and T_OVERLAPS into TimeOverlaps: read as T_INTERSECTS.
    ast.TimeOverlaps: ("T_INTERSECTS", "AND", [("begin", "<=", "end"), ("end", ">=", "begin")]),
}
_UNSUPPORTED_NAMES = {
    ast.ArrayEquals: "A_EQUALS", ast.ArrayContains: "A_CONTAINS", ast.ArrayContainedBy: "A_CONTAINEDBY",
    ast.ArrayOverlaps: "A_OVERLAPS", ast.DistanceWithin: "DWITHIN", ast.DistanceBeyond: "BEYOND",
    ast.Relate: "RELATE", ast.Exists: "EXISTS", ast.TimeBeforeOrDuring: "BEFORE OR DURING",
    ast.TimeDuringOrAfter: "DURING OR AFTER",
}
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mul: "*", ast.Div: "/"}
_TEXT_FUNCTIONS = {"lower": ("CASEI", "lower"), "casei": ("CASEI", "lower"), "accenti": ("ACCENTI", "unaccent")}
_NEG_INFINITY = sql.SQL("'-infinity'::timestamptz")
_POS_INFINITY = sql.SQL("'infinity'::timestamptz")


class _Translator:
    def __init__(self, fields, geometry_column, storage_srid, alias):
        self.fields = fields
        self.geometry_column = geometry_column
        self.storage_srid = storage_srid
        self.alias = alias

    # -- predicates: each returns (Composable, params) ---------------------------------------------------

    @singledispatchmethod
    def predicate(self, node) -> tuple[sql.Composable, list]:
        """Anything without a handler is refused by name, so the client gets a 400 saying what is missing."""
        if not isinstance(node, ast.Node):
            raise FilterError(f"{_show(node)} is a value, not a condition")
        if isinstance(node, ast.Attribute):
            raise FilterError(f"{node.name} is a value, not a condition")
        if isinstance(node, ast.Expression):
            raise FilterError("a function or arithmetic expression is a value, not a condition")
        _refuse(node)

    @predicate.register
    def _combination(self, node: ast.Combination):
        lhs, lhs_params = self.predicate(node.lhs)
        rhs, rhs_params = self.predicate(node.rhs)
        joiner = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
        return sql.SQL("({})").format(joiner.join([lhs, rhs])), lhs_params + rhs_params

    @predicate.register
    def _not(self, node: ast.Not):
        inner, params = self.predicate(node.sub_node)
        return sql.SQL("NOT ({})").format(inner), params

    @predicate.register
    def _include(self, node: ast.Include):
        """INCLUDE / EXCLUDE: all or nothing."""
        return sql.SQL("FALSE" if node.not_ else "TRUE"), []

    @predicate.register
    def _comparison(self, node: ast.Comparison):
        """= <> < <= > >=: both sides of compatible types; literals converted to the other side's type."""
        operator = _COMPARISONS[type(node)]
        lhs, rhs = self._pair(node.lhs, node.rhs)
        if lhs.kind == "geometry":
            raise FilterError(f"'{operator}' cannot compare geometries; use S_EQUALS or another spatial function")
        return sql.SQL("{} {} {}").format(lhs.sql, sql.SQL(operator), rhs.sql), lhs.params + rhs.params

    @predicate.register
    def _between(self, node: ast.Between):
        lhs = self.expression(node.lhs)
        if lhs.kind not in NUMERIC | TEMPORAL | {"string"}:
            raise FilterError(f"BETWEEN needs numbers, strings or dates; {lhs.describe()}")
        low = self._operand(node.low, lhs)
        high = self._operand(node.high, lhs)
        template = "{} NOT BETWEEN {} AND {}" if node.not_ else "{} BETWEEN {} AND {}"
        return sql.SQL(template).format(lhs.sql, low.sql, high.sql), lhs.params + low.params + high.params

    @predicate.register
    def _like(self, node: ast.Like):
        """CQL2 LIKE: % any string, _ one character, \\ escapes the next one (PostgreSQL's own LIKE syntax)."""
        lhs = self.expression(node.lhs)
        if lhs.kind != "string":
            raise FilterError(f"LIKE needs a string; {lhs.describe()}")
        lhs = self._as_text(lhs)
        for text in _string_literals(node.pattern):
            _check_like_pattern(text)
        pattern = self._operand(node.pattern, lhs)
        operator = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return sql.SQL("{} {} {}").format(lhs.sql, sql.SQL(operator), pattern.sql), lhs.params + pattern.params

    @predicate.register
    def _in(self, node: ast.In):
        """IN (a, b, …): one placeholder per item, so each is converted and bound like any other value."""
        lhs = self.expression(node.lhs)
        if lhs.kind == "geometry":
            raise FilterError("IN cannot compare geometries")
        items = [self._operand(item, lhs) for item in node.sub_nodes]
        template = "{} NOT IN ({})" if node.not_ else "{} IN ({})"
        params = lhs.params + [p for item in items for p in item.params]
        return sql.SQL(template).format(lhs.sql, sql.SQL(", ").join(item.sql for item in items)), params

    @predicate.register
    def _is_null(self, node: ast.IsNull):
        """A literal is never NULL (and a lone untyped parameter would leave PostgreSQL guessing its type)."""
        lhs = self.expression(node.lhs)
        if not isinstance(node.lhs, ast.Node):
            return sql.SQL("TRUE" if node.not_ else "FALSE"), []
        return sql.SQL("{} IS NOT NULL" if node.not_ else "{} IS NULL").format(lhs.sql), lhs.params

    @predicate.register
    def _spatial(self, node: ast.SpatialComparisonPredicate):
        """S_INTERSECTS & co. map one to one onto PostGIS (ST_Intersects and ST_Contains use the GiST index)."""
        name, function = _SPATIAL[type(node)]
        lhs = self._geometry(node.lhs, name)
        rhs = self._geometry(node.rhs, name)
        return sql.SQL("{}({}, {})").format(sql.SQL(function), lhs.sql, rhs.sql), lhs.params + rhs.params

    @predicate.register
    def _bbox(self, node: ast.BBox):
        """BBOX(geometry, minx, miny, maxx, maxy[, crs]) = S_INTERSECTS with that box (CRS84 unless told)."""
        lhs = self._geometry(node.lhs, "BBOX")
        box = self._box([node.minx, node.miny, node.maxx, node.maxy], node.crs)
        return sql.SQL("ST_Intersects({}, {})").format(lhs.sql, box.sql), lhs.params + box.params

    @predicate.register
    def _temporal(self, node: ast.TemporalPredicate):
        """T_*: every relation is a condition on the begin and end of each side; an instant has begin = end."""
        if type(node) not in _TEMPORAL:
            _refuse(node)
        name, joiner, conditions = _TEMPORAL[type(node)]
        a = self._temporal_bounds(node.lhs, name)
        b = self._temporal_bounds(node.rhs, name)
        parts, params = [], []
        for left, operator, right in conditions:
            (left_sql, left_params), (right_sql, right_params) = a[left], b[right]
            parts.append(sql.SQL("{} {} {}").format(left_sql, sql.SQL(operator), right_sql))
            params += left_params + right_params
        if len(parts) == 1:
            return parts[0], params
        return sql.SQL("({})").format(sql.SQL(f" {joiner} ").join(parts)), params

    # -- expressions: each returns an _Expr ------------------------------------------------------------

    @singledispatchmethod
    def expression(self, node, expect: _Expr | None = None) -> _Expr:
        """Literals (anything that is not an AST node) become typed parameters; unknown nodes are refused."""
        if isinstance(node, ast.Node):
            _refuse(node)
        return self._literal(node, expect)

    @expression.register
    def _attribute(self, node: ast.Attribute, expect=None):
        """Only queryables reach the SQL, and only as quoted identifiers."""
        name = node.name
        column = sql.Identifier(self.alias, name)
        if name in self.fields:
            kind = _field_kind(self.fields[name])
            if kind not in KINDS:
                raise FilterError(f"property {name} (type {kind}) cannot be used in filters")
            return _Expr(column, [], kind, name, is_property=True)
        if name in (self.geometry_column, "geometry"):
            return _Expr(sql.Identifier(self.alias, self.geometry_column), [], "geometry", name, is_property=True)
        queryables = ", ".join([*self.fields, "geometry"])
        raise FilterError(f"unknown queryable '{name}' (queryables: {queryables})")

    @expression.register
    def _function(self, node: ast.Function, expect=None):
        """CASEI -> lower(), ACCENTI -> unaccent() (extension `unaccent`; folds đ/Đ too), BBOX literal -> box."""
        name = node.name.lower()
        if name == "bbox":
            if not all(_is_number(a) for a in node.arguments):
                raise FilterError("BBOX takes 4 or 6 numbers")
            return self._box(list(node.arguments), None)
        if name not in _TEXT_FUNCTIONS:
            raise FilterError(f"unsupported function '{node.name}' (supported: CASEI, ACCENTI)")
        cql_name, pg_function = _TEXT_FUNCTIONS[name]
        if len(node.arguments) != 1:
            raise FilterError(f"{cql_name} takes exactly one argument")
        (argument,) = node.arguments
        if isinstance(argument, ast.Node):
            inner = self.expression(argument)
            if inner.kind != "string":
                raise FilterError(f"{cql_name} needs a string; {inner.describe()}")
            inner = self._as_text(inner)
        else:
            if not isinstance(argument, str):
                raise FilterError(f"{cql_name} needs a string; {_show(argument)} is not a string")
            inner = _Expr(sql.SQL("%s::text"), [_nfc(argument)], "string", _show(argument))
        return _Expr(sql.SQL("{}({})").format(sql.SQL(pg_function), inner.sql), inner.params, "string",
                     f"{cql_name}({inner.label})")

    @expression.register
    def _arithmetic(self, node: ast.Arithmetic, expect=None):
        """+ - * / on numbers, computed as numeric (no integer overflow, no integer division); x / 0 is NULL."""
        operator = _ARITHMETIC[type(node)]
        number = _Expr(sql.SQL(""), [], "number", "a number")
        lhs = self._operand(node.lhs, number, context=f"arithmetic ({operator})")
        rhs = self._operand(node.rhs, number, context=f"arithmetic ({operator})")
        if operator == "/" and not isinstance(node.rhs, ast.Node) and rhs.params == [0]:
            raise FilterError("division by zero")
        left, right = (e.sql if isinstance(n, ast.Arithmetic) else sql.SQL("{}::numeric").format(e.sql)
                       for n, e in ((node.lhs, lhs), (node.rhs, rhs)))
        if operator == "/":
            right = sql.SQL("NULLIF({}, 0)").format(right)
        return _Expr(sql.SQL("({} {} {})").format(left, sql.SQL(operator), right), lhs.params + rhs.params,
                     "number", f"{lhs.label} {operator} {rhs.label}")

    # -- helpers -----------------------------------------------------------------------------------

    def _pair(self, lhs_node, rhs_node) -> tuple[_Expr, _Expr]:
        """Translate two operands, typing a literal after the expression on the other side."""
        if not isinstance(lhs_node, ast.Node) and isinstance(rhs_node, ast.Node):
            rhs = self.expression(rhs_node)
            return self._operand(lhs_node, rhs), rhs
        lhs = self.expression(lhs_node)
        return lhs, self._operand(rhs_node, lhs)

    def _operand(self, node, other: _Expr, context: str | None = None) -> _Expr:
        """An operand that must be comparable with `other` (a literal is converted to other's type)."""
        if not isinstance(node, ast.Node):
            return self._literal(node, other, context)
        value = self.expression(node)
        if not _compatible(value.kind, other.kind):
            if context:
                raise FilterError(f"{context} needs numbers; {value.describe()}")
            raise FilterError(f"cannot compare {value.label} with {other.label}: "
                              f"{value.describe()}, {other.describe()}")
        return value

    def _literal(self, value, expect: _Expr | None = None, context: str | None = None) -> _Expr:
        """A client value as a typed bound parameter (never SQL text)."""
        if isinstance(value, (values.Geometry, values.Envelope)):
            geometry = self._geometry_literal(value)
            if expect is not None and expect.kind != "geometry":
                raise FilterError(f"{expect.describe()}; a geometry cannot be compared with it")
            return geometry
        if isinstance(value, values.Interval):
            raise FilterError("an INTERVAL can only be used in a temporal function (T_BEFORE, T_DURING, …)")
        if isinstance(value, (list, tuple)):
            raise FilterError("array literals are not supported")
        if isinstance(value, (time, timedelta)) or value is None:
            raise FilterError(f"unsupported value {_show(value)}")
        kind = expect.kind if expect is not None else _literal_kind(value)
        if kind == "geometry":
            raise FilterError(f"{expect.describe()}; {_show(value)} is not a geometry (use a spatial function)")
        converted = _CONVERT[kind](value)
        if converted is _MISMATCH:
            if context:
                raise FilterError(f"{context} needs numbers; {_show(value)} is not a number")
            raise FilterError(f"{expect.describe()}; {_show(value)} is not {_A_KIND[kind]}"
                              + (f" (quote it: '{value}')" if kind == "string" and _is_number(value) else ""))
        return _Expr(sql.SQL("%s"), [converted], kind, _show(value))

    def _as_text(self, expr: _Expr) -> _Expr:
        """String properties may be varchar, text or something else declared a string: text functions need text."""
        if expr.is_property:
            return _Expr(sql.SQL("{}::text").format(expr.sql), expr.params, expr.kind, expr.label, True)
        return expr

    def _geometry(self, node, function: str) -> _Expr:
        value = self.expression(node)
        if value.kind != "geometry":
            raise FilterError(f"{function} needs geometries; {value.describe()}")
        return value

    def _geometry_literal(self, value) -> _Expr:
        """GeoJSON (re-serialised by shapely: closed rings, checked validity) with the storage SRID."""
        if isinstance(value, values.Envelope):
            return self._box(_envelope_bounds(value), None)
        geojson = dict(value.geometry)
        crs = geojson.pop("crs", None)
        crs_name = ((crs.get("properties") or {}).get("name")) if isinstance(crs, dict) else None
        srid = _srid_of(crs_name)[0] if crs_name else self.storage_srid
        try:
            shape = shapely.geometry.shape(geojson)
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise FilterError(f"invalid geometry literal: {exc}") from None
        if not shape.is_valid:
            raise FilterError(f"invalid geometry literal: {explain_validity(shape)}")
        if not shape.is_empty and not all(math.isfinite(c) for c in shape.bounds):
            raise FilterError("invalid geometry literal: coordinates must be finite numbers")
        text = json.dumps(shapely.geometry.mapping(shape))
        geometry = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON(%s::text), {})").format(sql.Literal(srid))
        if srid != self.storage_srid:
            geometry = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(self.storage_srid))
        return _Expr(geometry, [text], "geometry", f"{shape.geom_type} literal")

    def _box(self, numbers: list, crs: str | None) -> _Expr:
        """A box literal (BBOX / ENVELOPE) in CRS84 or the given CRS, as a polygon in the storage SRID."""
        if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights are ignored
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        if len(numbers) != 4 or not all(_is_number(n) and math.isfinite(n) for n in numbers):
            raise FilterError("a bounding box needs 4 (or 6) finite numbers")
        srid, lat_first = _srid_of(crs) if crs else (CRS84_SRID, False)
        minx, miny, maxx, maxy = [float(n) for n in numbers]
        if lat_first:
            minx, miny, maxx, maxy = miny, minx, maxy, maxx
        if minx > maxx or miny > maxy:
            raise FilterError(f"bounding box has min > max: {numbers}")
        box = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(srid))
        if srid != self.storage_srid:
            box = sql.SQL("ST_Transform({}, {})").format(box, sql.Literal(self.storage_srid))
        return _Expr(box, [minx, miny, maxx, maxy], "geometry", "BBOX literal")

    def _temporal_bounds(self, node, function: str) -> dict[str, tuple[sql.Composable, list]]:
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
            start, end = (_temporal_value(v, function) for v in (start, end))
            try:
                if start is not None and end is not None and start > end:
                    raise FilterError(f"INTERVAL starts after it ends: {_show(start)} > {_show(end)}")
            except TypeError:  # date vs datetime, naive vs aware: PostgreSQL compares them
                pass
            begin = (sql.SQL("%s"), [start]) if start is not None else (_NEG_INFINITY, [])
            finish = (sql.SQL("%s"), [end]) if end is not None else (_POS_INFINITY, [])
            return {"begin": begin, "end": finish}
        if isinstance(node, ast.Node):
            value = self.expression(node)
            if value.kind not in TEMPORAL:
                raise FilterError(f"{function} needs dates or timestamps; {value.describe()}")
            bound = (value.sql, value.params)
        else:
            bound = (sql.SQL("%s"), [_temporal_value(node, function)])
        return {"begin": bound, "end": bound}


def _refuse(node):
    """Refuse a construct by its CQL2 name."""
    name = next((n for cls, n in _UNSUPPORTED_NAMES.items() if isinstance(node, cls)), type(node).__name__)
    raise FilterError(f"{name} is not supported in filters")


# -- values --------------------------------------------------------------------------------------------

_MISMATCH = object()


def _field_kind(schema: dict) -> str:
    kind = schema.get("type", "string")
    if kind == "string" and schema.get("format") in TEMPORAL:
        return schema["format"]
    return kind


def _literal_kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, Decimal)):
        return "number"
    if isinstance(value, datetime):
        return "date-time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, str):
        return "string"
    raise FilterError(f"unsupported value {_show(value)}")


def _compatible(a: str, b: str) -> bool:
    return a == b or {a, b} <= NUMERIC or {a, b} <= TEMPORAL


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _to_decimal(value):
    """int stays int (so an integer column keeps its index); other numbers become exact Decimals."""
    if isinstance(value, bool):
        return _MISMATCH
    if isinstance(value, int):
        return value
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return _MISMATCH
    if not number.is_finite():
        return _MISMATCH
    return int(number) if number == number.to_integral_value() else number


def _to_integer(value):
    if isinstance(value, (int, float, Decimal, str)):
        return _to_decimal(value)
    return _MISMATCH


_to_number = _to_integer


def _to_string(value):
    return _nfc(value) if isinstance(value, str) else _MISMATCH


def _to_boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return _MISMATCH


def _to_temporal(value):
    """date and datetime as given (PostgreSQL compares the two); ISO 8601 strings parsed."""
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        for parse in (date.fromisoformat, datetime.fromisoformat):
            try:
                return parse(value.strip())
            except ValueError:
                pass
    return _MISMATCH


_CONVERT = {"integer": _to_integer, "number": _to_number, "string": _to_string, "boolean": _to_boolean,
            "date": _to_temporal, "date-time": _to_temporal}


def _temporal_value(value, function: str):
    if value is None:
        return None
    converted = _to_temporal(value)
    if converted is _MISMATCH:
        raise FilterError(f"{function} needs dates or timestamps; {_show(value)} is neither")
    return converted


def _nfc(text: str) -> str:
    """The loader stores Vietnamese text as NFC; values are normalised the same way so that they match."""
    return unicodedata.normalize("NFC", text)


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
        raise FilterError(f"LIKE pattern {_show(pattern)} ends with the escape character \\")


def _envelope_bounds(envelope: values.Envelope) -> list[float]:
    """[minx, miny, maxx, maxy] of a pygeofilter Envelope, whichever parser filled it.

    CQL2-text ENVELOPE(minx maxx miny maxy) fills (x1, x2, y1, y2) as named; CQL2-JSON {"bbox": [minx, miny,
    maxx, maxy]} fills them in that order (pygeofilter #163). A well-formed box is well-formed in its own
    reading, so when only one reading is well-formed it is the right one; when both are, refuse rather than
    guess (it cannot happen with lon/lat boxes over Vietnam, where every longitude exceeds every latitude).
    """
    x1, x2, y1, y2 = envelope.x1, envelope.x2, envelope.y1, envelope.y2
    as_named = [x1, y1, x2, y2] if x1 <= x2 and y1 <= y2 else None
    as_json = [x1, x2, y1, y2] if x1 <= y1 and x2 <= y2 else None
    if as_named and as_json and as_named != as_json:
        raise FilterError("ambiguous bounding box literal (pygeofilter 0.4 reads CQL2-JSON bbox and ENVELOPE in "
                          "different orders); use BBOX(geometry, minx, miny, maxx, maxy) or a POLYGON")
    if not (as_named or as_json):
        raise FilterError(f"bounding box has min > max: {[x1, x2, y1, y2]}")
    return as_named or as_json


def _srid_of(crs: str | None) -> tuple[int, bool]:
    """(SRID, latitude first?) of a CRS name: CRS84 URI/URN, EPSG URI/URN or 'EPSG:n'."""
    if not crs or crs.upper().endswith("CRS84"):
        return CRS84_SRID, False
    match = _EPSG.search(crs)
    if not match:
        raise FilterError(f"unsupported CRS {crs!r} (use CRS84 or an EPSG code)")
    srid = int(match.group(1))
    return srid, srid in LAT_LON_FIRST


def _show(value) -> str:
    """A value as the client would write it in CQL2 text, for messages."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"TIMESTAMP('{value.isoformat()}')"
    if isinstance(value, date):
        return f"DATE('{value.isoformat()}')"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)
