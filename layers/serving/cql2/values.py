"""CQL2 values: the types a filter compares, client literals converted to a property's type, and how values
are named in messages. A value that does not fit its property is a FilterError (the provider answers 400)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from psycopg import sql
from pygeofilter import ast

NUMERIC = {"integer", "number"}
TEMPORAL = {"date", "date-time"}
KINDS = {"string", "integer", "number", "boolean", "date", "date-time", "geometry"}
A_KIND = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
          "date": "a date", "date-time": "a timestamp", "geometry": "a geometry"}


class FilterError(ValueError):
    """The filter cannot be run: unknown property, value of the wrong type or unsupported CQL2 construct."""


_UNSUPPORTED_NAMES = {
    ast.ArrayEquals: "A_EQUALS", ast.ArrayContains: "A_CONTAINS", ast.ArrayContainedBy: "A_CONTAINEDBY",
    ast.ArrayOverlaps: "A_OVERLAPS", ast.DistanceWithin: "DWITHIN", ast.DistanceBeyond: "BEYOND",
    ast.Relate: "RELATE", ast.Exists: "EXISTS", ast.TimeBeforeOrDuring: "BEFORE OR DURING",
    ast.TimeDuringOrAfter: "DURING OR AFTER",
}


def refuse(node):
    """Refuse a construct by its CQL2 name."""
    name = next((n for cls, n in _UNSUPPORTED_NAMES.items() if isinstance(node, cls)), type(node).__name__)
    raise FilterError(f"{name} is not supported in filters")


@dataclass(frozen=True)
class Expr:
    """A translated value expression: SQL, its parameters, its CQL2 type and how to name it in messages."""

    sql: sql.Composable
    params: list
    kind: str
    label: str
    is_property: bool = False

    def describe(self) -> str:
        return f"{self.label} is {A_KIND[self.kind]}{' property' if self.is_property else ''}"


MISMATCH = object()  # what a converter returns for a value that does not fit


def field_kind(schema: dict) -> str:
    kind = schema.get("type", "string")
    if kind == "string" and schema.get("format") in TEMPORAL:
        return schema["format"]
    return kind


def literal_kind(value) -> str:
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
    raise FilterError(f"unsupported value {show(value)}")


def compatible(a: str, b: str) -> bool:
    return a == b or {a, b} <= NUMERIC or {a, b} <= TEMPORAL


def is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _to_decimal(value):
    """int stays int (so an integer column keeps its index); other numbers become exact Decimals."""
    if isinstance(value, bool):
        return MISMATCH
    if isinstance(value, int):
        return value
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return MISMATCH
    if not number.is_finite():
        return MISMATCH
    return int(number) if number == number.to_integral_value() else number


def _to_number(value):
    if isinstance(value, (int, float, Decimal, str)):
        return _to_decimal(value)
    return MISMATCH


def _to_string(value):
    return nfc(value) if isinstance(value, str) else MISMATCH


def _to_boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return MISMATCH


def to_temporal(value):
    """date and datetime as given (PostgreSQL compares the two); ISO 8601 strings parsed."""
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        for parse in (date.fromisoformat, datetime.fromisoformat):
            try:
                return parse(value.strip())
            except ValueError:
                pass
    return MISMATCH


CONVERT = {"integer": _to_number, "number": _to_number, "string": _to_string, "boolean": _to_boolean,
           "date": to_temporal, "date-time": to_temporal}


def nfc(text: str) -> str:
    """The loader stores Vietnamese text as NFC; values are normalised the same way so that they match."""
    return unicodedata.normalize("NFC", text)


def show(value) -> str:
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
