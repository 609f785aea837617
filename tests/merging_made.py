"""What the merge tests share: member datasets made for them (small squares near Cần Thơ, drawn in UTM 48N metres,
stored in whichever CRS a test asks), imported through the registry's own load path, and the clean-up."""
import json
import subprocess
from pathlib import Path

from django.db import connection

from layers.crs.vn2000 import VN2000, pinned_srid
from layers.merging.models import MergedDataset
from layers.models import Dataset
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset

ORIGIN = (584_000.0, 1_108_000.0)  # UTM 48N (EPSG:32648) metres, in Ninh Kiều


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    ox, oy = ORIGIN
    ring = [[ox + x0, oy + y0], [ox + x1, oy + y0], [ox + x1, oy + y1], [ox + x0, oy + y1], [ox + x0, oy + y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def member_file(folder: Path, name: str, features: list[tuple[dict, dict]], srid: int) -> Path:
    """A GeoPackage of (properties, geometry in UTM 48N metres) features, stored in EPSG:`srid`."""
    source = folder / f"{name}.geojson"
    source.write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}},
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}, ensure_ascii=False),
        encoding="utf-8")
    target = folder / f"{name}.gpkg"
    target.unlink(missing_ok=True)
    # VN-2000 through the SDI's pinned definition (EPSG:6960), as PostGIS transforms back: else GDAL's own pick
    # would move the squares ~1 m and with them the overlaps the tests measure.
    to = rows("SELECT proj4text FROM spatial_ref_sys WHERE srid = %s", (pinned_srid(srid),))[0][0] \
        if srid in VN2000 else f"EPSG:{srid}"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-s_srs", "EPSG:32648", "-t_srs", to, "-nln", name,
                    str(target), str(source)], check=True, capture_output=True)
    return target


def publish_member(folder: Path, slug: str, features, srid: int, replace: bool = False) -> Dataset:
    path = member_file(folder, slug.replace("-", "_"), features, srid)
    metadata = DatasetMetadata(title_vi=f"Thửa đất {slug}", title_en=f"Parcels {slug}", sector="land",
                               licence_name="CC BY 4.0", attribution=f"Phòng TN&MT {slug}")
    return import_vector_dataset(path, slug=slug, metadata=metadata, srid=srid, replace=replace).dataset


def forget_merges(prefix: str, datasets: bool = True) -> None:
    """Remove the merges (with what they published) whose slug starts with `prefix`, and unless told otherwise
    the other datasets with that prefix (the members) too."""
    for merge in MergedDataset.objects.filter(slug__startswith=prefix):
        if merge.dataset_id:
            delete_dataset(merge.dataset.slug)
        else:
            merge.delete()
    for slug in Dataset.objects.filter(slug__startswith=prefix).values_list("slug", flat=True) if datasets else ():
        if Dataset.objects.filter(slug=slug).exists():
            delete_dataset(slug)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_merge'")


def rows(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()
