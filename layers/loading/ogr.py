"""Copy a vector layer into a PostGIS staging table with ogr2ogr (PostgreSQL COPY under the hood)."""
import logging
import os
import re
import subprocess
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from pathlib import Path

from layers.loading import ImportRefused
from layers.loading.gdal_safety import check_local_path, public_message, subprocess_env
from layers.loading.inspect import SourceLayer

log = logging.getLogger(__name__)
PROGRESS_RE = re.compile(r"(\d+)(?=\.\.\.|\s*- done)")


def pg_connection_string() -> tuple[str, dict]:
    """GDAL's PG: string for the Django database, with the password kept out of the process list."""
    db = settings.DATABASES["default"]
    parts = {"dbname": db["NAME"], "host": db.get("HOST") or "", "port": str(db.get("PORT") or ""), "user": db.get("USER") or ""}
    conn = " ".join(f"{k}='{v}'" for k, v in parts.items() if v)
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or "", "PGCLIENTENCODING": "UTF8", "PGOPTIONS": "-c jit=off"}
    return f"PG:{conn}", env


def copy_to_staging(
    source: SourceLayer,
    staging_table: str,
    srid: int,
    on_progress: Callable[[int], None] | None = None,
    open_options: dict | None = None,
) -> None:
    """Run ogr2ogr into `staging schema.staging_table`, keeping source column names and the source CRS.

    ogr2ogr reads the source only with the driver that inspected it, with network access off
    (layers.loading.gdal_safety).
    """
    target, env = pg_connection_string()
    env = subprocess_env(env, source.driver)
    check_local_path(source.path)
    # A Shapefile calls a layer "Polygon" or "LineString" even when some shapes have several parts, which a
    # single-part column would refuse at the first of them: such a layer goes into a column of any type, and the
    # checks settle it (multi only when some shape has several parts; checks.settle_geometry_type).
    shapefile_parts = source.driver == "ESRI Shapefile" and source.geometry_type in ("Polygon", "LineString")
    promote = ["-nlt", "PROMOTE_TO_MULTI"] if source.geometry_type in ("Unknown", "Geometry") else \
        ["-nlt", "GEOMETRY"] if shapefile_parts else []
    merged = {**dict(source.open_options), **(open_options or {})}
    options = [arg for key, value in merged.items() for arg in ("-oo", f"{key}={value}")]
    command = [
        "ogr2ogr", "-f", "PostgreSQL", target, source.path, source.layer_name,
        "-nln", staging_table,
        "-lco", f"SCHEMA={settings.SDI_STAGING_SCHEMA}",
        "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid", "-lco", "LAUNDER=NO",
        "-lco", "SPATIAL_INDEX=GIST", "-lco", "PRECISION=NO",
        "-a_srs", f"EPSG:{srid}", *promote, *options,
        "--config", "PG_USE_COPY", "YES", "-gt", "65536", "-progress",
    ]
    log.info("ogr2ogr %s (layer %s) -> %s.%s", source.path, source.layer_name, settings.SDI_STAGING_SCHEMA, staging_table)
    connection.ensure_connection()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, start_new_session=True)
    last, printed = 0, ""
    for chunk in iter(lambda: process.stdout.read(8), ""):
        printed += chunk  # "0...10...20...(...)100 - done." - a few dozen characters in all
        if on_progress:
            for match in PROGRESS_RE.finditer(printed):
                pct = int(match.group(1))
                if pct > last:
                    on_progress(pct)
                    last = pct
    stderr = process.stderr.read()
    if process.wait() != 0:
        reason = next((line for line in stderr.splitlines() if "ERROR" in line), stderr.strip()[:300])
        raise ImportRefused(f"{Path(source.path).name}: GDAL could not load it: {public_message(reason)}")
    if on_progress and last < 100:
        on_progress(100)
