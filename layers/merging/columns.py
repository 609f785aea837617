"""The SQL of one member's INSERT … SELECT: each target value from the member's row (rename, cast, value map,
constant), its provenance, and its geometry in the target CRS. Every name is an Identifier, every value a
bound parameter (value maps as one jsonb parameter)."""
import json
from dataclasses import dataclass

from psycopg import sql

from layers.crs.sql import transform_sql
from layers.merging.spec import Mapping, Member, MergeSpec


@dataclass
class MemberTable:
    """A member as the build reads it: its published table, column types, key and version."""
    member: Member
    schema: str
    table: str
    srid: int
    id_field: str
    geometry_field: str
    geometry_type: str
    columns: dict[str, str]  # name → PostgreSQL data type
    version: object  # timestamptz: the member's last change the build saw

    @property
    def key(self) -> str:
        return self.member.key or self.id_field

    @property
    def ident(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))


def value_sql(spec: MergeSpec, source: MemberTable, mapping: Mapping, target_type: str) -> tuple[sql.Composable, list]:
    """One target value of a member's row, cast to the target type, and its parameters."""
    target = sql.SQL(target_type)
    if mapping.constant:
        return sql.SQL("CAST(%s AS {})").format(target), [mapping.value]
    column = sql.SQL("m.{}").format(sql.Identifier(mapping.field))
    params: list = []
    expression: sql.Composable = column
    if mapping.map is not None:
        as_text = sql.SQL("{}::text").format(column)
        table = json.dumps(mapping.map, ensure_ascii=False)
        params = [table, table]  # the `?` test, then the lookup
        if mapping.unmapped == "keep":
            otherwise = as_text
        elif mapping.unmapped == "null":
            otherwise = sql.SQL("NULL")
        else:  # error: raised by the row itself, naming merge, member, field and feature
            otherwise = sql.SQL("sdi_merge_unmapped(%s, %s, %s, %s || m.{}::text, {})").format(
                sql.Identifier(source.key), as_text)
            params += [spec.slug, source.member.dataset, f"{mapping.target} (from {mapping.field})", f"{source.key} "]
        expression = sql.SQL("CASE WHEN {col} IS NULL THEN NULL WHEN %s::jsonb ? {t} THEN (%s::jsonb ->> {t}) "
                             "ELSE {other} END").format(col=column, t=as_text, other=otherwise)
    if mapping.cast:
        expression = sql.SQL("CAST({} AS {})").format(expression, sql.SQL(mapping.cast))
    if mapping.scale is not None:
        expression = sql.SQL("({} * {})").format(expression, sql.Literal(mapping.scale))
    if source.columns.get(mapping.field) == target_type and mapping.map is None and not mapping.cast \
            and mapping.scale is None:
        return expression, params
    return sql.SQL("CAST({} AS {})").format(expression, target), params


def geometry_sql(source: MemberTable, to_srid: int) -> sql.Composable:
    geometry = sql.SQL("m.{}").format(sql.Identifier(source.geometry_field))
    return sql.SQL("ST_Multi({})").format(transform_sql(geometry, source.srid, to_srid))
