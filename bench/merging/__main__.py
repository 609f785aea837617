"""Issue 11 — merging four member layers into one city layer, against the PostgreSQL floor, in one run.

Four members of N synthetic parcels each (made in SQL: a grid of 20 m squares per "district", drawn in UTM 48N
and stored in EPSG:5897, EPSG:9210 (both VN-2000 TM-3), EPSG:4326 and EPSG:32648, each with its own field names
and code list), registered as datasets. Member 2 overlaps member 1 by one column of parcels (20 m), member 3
leaves a 3 m gap north of member 1. Each round times, alternately:

- the floor: per member, `INSERT INTO fresh SELECT <casts>, ST_Multi(<transform to EPSG:5897>) FROM member`
  (the same transform SQL, layers.crs.sql) into one new table, then its GiST index;
- the merge build (layers.merging.build.build, as `manage.py merge` runs it): the same inserts plus value maps,
  provenance, primary key, GiST, overlaps and gaps, the priority rule, and the atomic publish.

    .venv/bin/python -m bench.merging                     # 4 × 250,000 parcels, 2 rounds
    .venv/bin/python -m bench.merging --per-member 50000 --rounds 1

Results: bench/out/merge-results.json and a Markdown summary on stdout (docs/benchmarks.md, "Issue 11 — merge").
"""
import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from bench import OUT, REPO
from bench.database import DATABASE_URL

SLUG = "bench-merge-city"
MEMBERS = [  # slug, SRID, fields (key, use, area) and their types, how `use` is coded
    ("bench-merge-m1", 5897, ("so_hieu", "text"), ("mdsd", "names"), ("dt", "text")),
    ("bench-merge-m2", 9210, ("ma_thua", "text"), ("loai", "codes"), ("dien_tich", "double precision")),
    ("bench-merge-m3", 4326, ("id", "integer"), ("code", "codes"), ("area", "numeric")),
    ("bench-merge-m4", 32648, ("parcel", "text"), ("lu", "names"), ("a", "real")),
]
NAMES = {"LUC": "Đất chuyên trồng lúa nước", "ONT": "Đất ở tại nông thôn", "ODT": "Đất ở tại đô thị",
         "CLN": "Đất trồng cây lâu năm", "SKC": "Đất cơ sở sản xuất phi nông nghiệp"}
CELL = 20.0  # metres
ORIGIN = (570_000.0, 1_100_000.0)  # UTM 48N, Cần Thơ


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")
    key = REPO / ".sdi" / "secret_key"
    if not os.environ.get("SDI_SECRET_KEY") and key.exists():
        os.environ["SDI_SECRET_KEY"] = key.read_text().strip()
    import django

    django.setup()


def execute(query, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def offsets(side: int) -> list[tuple[float, float]]:
    """Where each member's grid starts (metres from ORIGIN): 2 overlaps 1 by one column, 3 is 3 m north of 1."""
    width = side * CELL
    return [(0, 0), (width - CELL, 0), (0, width + 3), (width, width)]


def make_members(per_member: int) -> None:
    """The four member tables, in SQL, registered as datasets (skipped when they are there with N rows)."""
    from django.contrib.gis.geos import Polygon
    from psycopg import sql

    from layers.crs.sql import transform_sql
    from layers.models import Dataset, Sector

    side = int(round(per_member ** 0.5))
    count = side * side
    for (slug, srid, key, use, area), (dx, dy) in zip(MEMBERS, offsets(side)):
        dataset = Dataset.objects.filter(slug=slug).first()
        if dataset and dataset.feature_count == count:
            continue
        table = slug.replace("-", "_")
        codes = list(NAMES)
        use_value = sql.SQL("(ARRAY[{}])[1 + mod(i * 7 + j, {})]").format(
            sql.SQL(", ").join(sql.Literal(NAMES[c] if use[1] == "names" else c) for c in codes),
            sql.Literal(len(codes)))
        key_value = sql.SQL("(i * {} + j)").format(sql.Literal(side)) if key[1] == "integer" else \
            sql.SQL("'{}-' || (i * {} + j)").format(sql.SQL(slug[-2:]), sql.Literal(side))
        area_value = sql.SQL("(400 + mod(i + j, 7))::text") if area[1] == "text" else \
            sql.SQL("(400 + mod(i + j, 7))::{}").format(sql.SQL(area[1]))
        square = sql.SQL("ST_SetSRID(ST_MakeEnvelope({x} + j * {c}, {y} + i * {c}, {x} + (j + 1) * {c}, "
                         "{y} + (i + 1) * {c}), 32648)").format(x=sql.Literal(ORIGIN[0] + dx),
                                                                 y=sql.Literal(ORIGIN[1] + dy), c=sql.Literal(CELL))
        # ST_Segmentize: 16 vertices a parcel rather than 5, nearer real parcels' cost to transform
        geometry = transform_sql(sql.SQL("ST_Segmentize({}, 5)").format(square), 32648, srid)
        execute(sql.SQL("DROP TABLE IF EXISTS sdi_data.{t}").format(t=sql.Identifier(table)))
        execute(sql.SQL(
            "CREATE TABLE sdi_data.{t} AS SELECT (i * {s} + j + 1)::bigint AS fid, {k} AS {kn}, {u} AS {un}, "
            "{a} AS {an}, ST_Multi({g})::geometry(MultiPolygon, {srid}) AS geom "
            "FROM generate_series(0, {n}) i, generate_series(0, {n}) j").format(
            t=sql.Identifier(table), s=sql.Literal(side), k=key_value, kn=sql.Identifier(key[0]), u=use_value,
            un=sql.Identifier(use[0]), a=area_value, an=sql.Identifier(area[0]), g=geometry,
            srid=sql.Literal(srid), n=sql.Literal(side - 1)))
        execute(sql.SQL("ALTER TABLE sdi_data.{t} ADD PRIMARY KEY (fid)").format(t=sql.Identifier(table)))
        execute(sql.SQL("CREATE INDEX ON sdi_data.{t} USING gist (geom)").format(t=sql.Identifier(table)))
        execute(sql.SQL("VACUUM ANALYZE sdi_data.{t}").format(t=sql.Identifier(table)))
        box = execute(sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent({g}) e "
                              "FROM sdi_data.{t}) x").format(g=transform_sql(sql.SQL("geom"), srid, 4326),
                                                             t=sql.Identifier(table)))[0]
        from layers.loading.checks import attribute_schema

        Dataset.objects.update_or_create(slug=slug, defaults=dict(
            title_vi=f"Thửa đất {slug}", title_en=f"Parcels {slug}", sector=Sector.objects.get(code="land"),
            licence_name="CC BY 4.0", attribution="bench", table_schema="sdi_data", table_name=table,
            storage_srid=srid, geometry_type="MultiPolygon", feature_count=count,
            extent=Polygon.from_bbox(box), attribute_schema=attribute_schema("sdi_data", table), published=False))
        print(f"made {slug}: {count} parcels in EPSG:{srid}", flush=True)


def spec() -> dict:
    target = {"key": ("ma_thua", "text"), "use": ("loai_dat", "text"), "area": ("dien_tich_m2", "double precision")}
    members = []
    for priority, (slug, srid, key, use, area) in enumerate(MEMBERS, start=1):
        use_map = {NAMES[c]: c for c in NAMES} if use[1] == "names" else {c: c for c in NAMES}
        members.append({"dataset": slug, "priority": priority, "key": key[0], "fields": {
            "ma_thua": key[0], "loai_dat": {"field": use[0], "map": use_map},
            "dien_tich_m2": {"field": area[0], "cast": "double precision"}, "ma_huyen": {"value": f"9{priority}"}}})
    return {"slug": SLUG, "title_vi": "Thửa đất toàn thành phố (gộp, benchmark)", "title_en": "City parcels (bench)",
            "sector": "land", "licence_name": "CC BY 4.0", "attribution": "bench", "access_level": "public",
            "crs": "EPSG:5897", "overlap": "priority",
            "fields": [{"name": n, "type": t} for n, t in [*target.values(), ("ma_huyen", "text")]],
            "members": members}


def floor() -> float:
    """The equivalent INSERT … SELECT per member with the casts and the same transform, into a fresh table, + GiST."""
    from psycopg import sql

    from layers.crs.sql import transform_sql

    execute("DROP TABLE IF EXISTS sdi_staging.bench_merge_floor")
    started = time.perf_counter()
    execute("CREATE TABLE sdi_staging.bench_merge_floor (ma_thua text, loai_dat text, dien_tich_m2 double precision, "
            "ma_huyen text, geom geometry(MultiPolygon, 5897))")
    for priority, (slug, srid, key, use, area) in enumerate(MEMBERS, start=1):
        execute(sql.SQL("INSERT INTO sdi_staging.bench_merge_floor SELECT {k}::text, {u}::text, {a}::double precision, "
                        "{h}, ST_Multi({g}) FROM sdi_data.{t}").format(
            k=sql.Identifier(key[0]), u=sql.Identifier(use[0]), a=sql.Identifier(area[0]),
            h=sql.Literal(f"9{priority}"), g=transform_sql(sql.SQL("geom"), srid, 5897),
            t=sql.Identifier(slug.replace("-", "_"))))
    execute("CREATE INDEX ON sdi_staging.bench_merge_floor USING gist (geom)")
    seconds = time.perf_counter() - started
    execute("DROP TABLE sdi_staging.bench_merge_floor")
    return seconds


def merge_build() -> tuple[float, dict]:
    from layers.merging.build import build
    from layers.merging.services import save_merge

    merge, _ = save_merge(spec())
    started = time.perf_counter()
    record = build(merge.pk, trigger="bench.merging")
    seconds = time.perf_counter() - started
    if record.status != "succeeded":
        raise SystemExit(f"the build failed: {record.error}")
    return seconds, record.report


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return {"cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "postgresql": execute("SHOW server_version")[0][0], "postgis": execute("SELECT postgis_lib_version()")[0][0],
            "python": platform.python_version(), "load_before": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.merging", description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-member", type=int, default=250_000, help="parcels per member (a square number)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (floor, build); medians are reported")
    args = parser.parse_args()
    setup_django()
    from layers.registry.services import ensure_schemas

    ensure_schemas()
    make_members(args.per_member)
    floors, builds, report = [], [], {}
    for n in range(1, args.rounds + 1):
        floors.append(floor())
        print(f"round {n}: floor {floors[-1]:.1f} s", flush=True)
        seconds, report = merge_build()
        builds.append(seconds)
        print(f"round {n}: merge build {seconds:.1f} s ({report['features']} features; "
              f"{ {k: v for k, v in report.items() if k.startswith('seconds_')} })", flush=True)
    median = statistics.median
    results = {"machine": machine(), "per_member": args.per_member, "rounds": args.rounds,
               "floor_seconds": floors, "build_seconds": builds, "ratio": median(builds) / median(floors),
               "report": {k: v for k, v in report.items() if k not in ("overlaps", "gaps")},
               "overlaps": report.get("overlaps"), "gaps": report.get("gaps")}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "merge-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"\n| members | features | floor (median s) | merge build (median s) | ratio |\n|---|---|---|---|---|\n"
          f"| 4 × {args.per_member:,} | {report['features']:,} | {median(floors):.1f} | {median(builds):.1f} | "
          f"{results['ratio']:.2f}× |")


if __name__ == "__main__":
    main()
