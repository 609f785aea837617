"""Naming the feature a failed build tripped on.

A member's INSERT … SELECT casts in SQL; a value that does not cast stops the statement with PostgreSQL's message,
which names the value but not the feature. Rather than scan every member once more before every build (a second
pass over a million rows), the build runs the INSERT and only when it fails asks, mapping by mapping, for the
first feature whose value does not cast (sdi_merge_castable: PostgreSQL 15 has no pg_input_is_valid).
An unmapped value (`unmapped: error`) needs no search: the row raises it naming its feature (sdi_merge_unmapped).
"""
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from layers.merging.columns import MemberTable, value_sql
from layers.merging.spec import MergeSpec

UNMAPPED_STATE = "SDM01"


def castable(value: str, type_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sdi_merge_castable(%s, %s)", (value, type_name))
        return cursor.fetchone()[0]


def explain(spec: MergeSpec, source: MemberTable, error: DatabaseError) -> str:
    """The build's message for a member whose INSERT failed: merge, member, field, feature and value."""
    cause = error.__cause__ or error
    state = getattr(cause, "sqlstate", None)
    primary = getattr(getattr(cause, "diag", None), "message_primary", None) or " ".join(str(error).split())
    if state == UNMAPPED_STATE:
        return primary
    label = f"merge {spec.slug}, member {source.member.dataset}"
    types = {f.name: f.type for f in spec.fields}
    for mapping in source.member.mappings:
        if mapping.constant or not _fails(spec, source, mapping, types[mapping.target]):
            continue
        found = _first_offender(spec, source, mapping, types[mapping.target])
        if found:
            key, value = found
            into = f"{mapping.cast} then {types[mapping.target]}" if mapping.cast else types[mapping.target]
            return (f"{label}, field {mapping.target} (from {mapping.field}), feature {source.key} {key}: value "
                    f"{value!r} does not cast to {into} ({primary})")
        return f"{label}, field {mapping.target} (from {mapping.field}): {primary}"
    return f"{label}: {primary}"


def _fails(spec, source: MemberTable, mapping, target_type: str) -> bool:
    expression, params = value_sql(spec, source, mapping, target_type)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.SQL("SELECT count({}) FROM {} m").format(expression, source.ident), params)
    except DatabaseError:
        return True
    return False


def _first_offender(spec, source: MemberTable, mapping, target_type: str):
    """The first feature (by key) whose value does not survive the mapping's casts, and that value as text.
    Each step is tested from text, so a cast PostgreSQL would refuse to plan (integer to date) is found too."""
    column = sql.SQL("m.{}").format(sql.Identifier(mapping.field))
    inner, params = (column, [])
    if mapping.map is not None:  # what the map gives (unmapped values as their own text: they are not the fault)
        bare = mapping.__class__(mapping.target, field=mapping.field, map=mapping.map, unmapped="keep")
        inner, params = value_sql(spec, source, bare, "text")
    steps = [t for t in (mapping.cast, target_type) if t]
    test = sql.SQL("NOT sdi_merge_castable({}::text, %s)").format(inner)
    test_params = [*params, steps[0]]
    if len(steps) == 2:
        test = sql.SQL("CASE WHEN NOT sdi_merge_castable({i}::text, %s) THEN true "
                       "ELSE NOT sdi_merge_castable(CAST({i}::text AS {c})::text, %s) END").format(
            i=inner, c=sql.SQL(steps[0]))
        test_params = [*params, steps[0], *params, steps[1]]
    query = sql.SQL("SELECT m.{k}::text, {col}::text FROM {src} m WHERE {col} IS NOT NULL AND {test} "
                    "ORDER BY m.{k} LIMIT 1").format(k=sql.Identifier(source.key), col=column, src=source.ident,
                                                     test=test)
    with connection.cursor() as cursor:
        cursor.execute(query, test_params)
        return cursor.fetchone()
