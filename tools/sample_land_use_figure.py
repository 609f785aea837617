"""Draw the four district land-use sample layers as published (docs/img/sample-land-use.png), for the README.

    .venv/bin/python tools/sample_land_use_figure.py    # after `make run` (or sample_sector + sample_data)

Reads the published tables (each in its own CRS, brought to EPSG:5897 through layers.crs.sql), colours every parcel
by the national code its own code maps to in config/merges/cantho-land-use.yml, and has Debian's headless Chromium
render the SVG to PNG. Nothing is fetched from another host.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")

import django  # noqa: E402

django.setup()

import yaml  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg import sql  # noqa: E402

from layers.crs.sql import transform_sql  # noqa: E402
from layers.models import Dataset  # noqa: E402
from layers.samples.land_use_codes import NATIONAL  # noqa: E402

COLOURS = {"ODT": "#e31a1c", "ONT": "#fb9a99", "TMD": "#ff7f00", "SKK": "#6a3d9a", "SKC": "#cab2d6",
           "CQP": "#666666", "LUA": "#ffff99", "HNK": "#fdbf6f", "CLN": "#33a02c", "NTS": "#a6cee3",
           "SON": "#1f78b4", "DTL": "#80b1d3", "DGT": "#bdbdbd", "CSD": "#f7f7f7"}
OTHER = "#b15928"  # schools, health, markets, religion, cemeteries, offices
WIDTH, HEIGHT = 1500, 940


def parcels(member: dict) -> list[tuple[str, str]]:
    """(national code, SVG path in EPSG:5897) of every parcel of one merge member."""
    dataset = Dataset.objects.get(slug=member["dataset"])
    codes = member["fields"]["loai_dat"]
    geometry = transform_sql(sql.Identifier("geom"), dataset.storage_srid, 5897)
    query = sql.SQL("SELECT {field}::text, ST_AsSVG({geometry}, 0, 1) FROM {table}").format(
        field=sql.Identifier(codes["field"]), geometry=geometry,
        table=sql.Identifier(dataset.table_schema, dataset.table_name))
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(connection.connection))
        return [(codes["map"].get(value, "?"), path) for value, path in cursor.fetchall()]


def main():
    spec = yaml.safe_load(Path(settings.SDI_CONFIG_DIR, "merges/cantho-land-use.yml").read_text(encoding="utf-8"))
    drawn = [item for member in spec["members"] for item in parcels(member)]
    districts = Dataset.objects.get(slug=settings.SDI_DISTRICTS_DATASET)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT ST_AsSVG({g}, 0, 1) FROM {t} WHERE level2_id IN ('916', '918', '919', '926')")
                       .format(g=transform_sql(sql.Identifier("geom"), 4326, 5897),
                               t=sql.Identifier(districts.table_schema, districts.table_name))
                       .as_string(connection.connection))
        outlines = [row[0] for row in cursor.fetchall()]
        cursor.execute(sql.SQL("SELECT ST_XMin(e), -ST_YMax(e), ST_XMax(e) - ST_XMin(e), ST_YMax(e) - ST_YMin(e) "
                               "FROM (SELECT ST_Extent({g}) AS e FROM {t} WHERE level2_id IN "
                               "('916', '918', '919', '926')) x")
                       .format(g=transform_sql(sql.Identifier("geom"), 4326, 5897),
                               t=sql.Identifier(districts.table_schema, districts.table_name))
                       .as_string(connection.connection))
        x, y, w, h = cursor.fetchone()
    present = {code for code, _ in drawn}
    legend = [(COLOURS[c], f"{c} {NATIONAL[c]}") for c in sorted(present & set(COLOURS))]
    legend.append((OTHER, ", ".join(sorted(present - set(COLOURS))) + " (công trình công cộng khác)"))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="{x - 300} {y - 300} {w * 1.62} {(h + 1300)}" style="background:#fff">']
    svg += [f'<path d="{path}" fill="{COLOURS.get(code, OTHER)}" stroke="none"/>' for code, path in drawn]
    svg += [f'<path d="{path}" fill="none" stroke="#000" stroke-width="40"/>' for path in outlines]
    size = h / 34
    for i, (colour, label) in enumerate(legend):
        lx, ly = x + w * 1.0, y + i * size * 1.4 + size
        svg.append(f'<rect x="{lx}" y="{ly}" width="{size}" height="{size}" fill="{colour}" '
                   f'stroke="#000" stroke-width="20"/>')
        svg.append(f'<text x="{lx + size * 1.3}" y="{ly + size * 0.85}" font-size="{size * 0.8}" '
                   f'font-family="sans-serif">{label}</text>')
    svg.append(f'<text x="{x}" y="{y + h + 700}" font-size="{size * 0.8}" font-family="sans-serif">DỮ LIỆU MẪU / '
               "SYNTHETIC — Ninh Kiều, Bình Thủy, Cái Răng, Phong Điền sample layers, coloured by national code "
               "(TT 08/2024)</text>")
    svg.append("</svg>")
    target = REPO / "docs" / "img" / "sample-land-use.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sdi-figure-") as work:
        page = Path(work, "figure.svg")
        page.write_text("\n".join(svg), encoding="utf-8")
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={target}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {target} ({len(drawn)} parcels)")


if __name__ == "__main__":
    main()
