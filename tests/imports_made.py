"""What tests that import through the front doors share: files made for them, and removing what they left."""
import shutil
import subprocess
import zipfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User

from layers.models import Dataset, ImportJob
from layers.registry.services import delete_dataset


def discard_job(job: ImportJob) -> None:
    """Delete a job and the upload folder it saved (a file on the server that was named is left alone)."""
    source = Path(job.source_path)
    if Path(settings.SDI_UPLOAD_DIR).resolve() in source.resolve().parents:
        shutil.rmtree(source.parent, ignore_errors=True)
    job.delete()


def forget_prefixed(prefix: str) -> None:
    """Remove the jobs, datasets and users whose slug or name starts with a test module's prefix."""
    for job in ImportJob.objects.filter(slug__startswith=prefix):
        discard_job(job)
    for slug in Dataset.objects.filter(slug__startswith=prefix).values_list("slug", flat=True):
        delete_dataset(slug)
    User.objects.filter(username__startswith=prefix).delete()


def tm3_shapefile_zip_without_prj(geojson: Path, folder: Path, name: str = "diem") -> Path:
    """The GeoJSON's features as EPSG:5897 (VN-2000 / TM-3 zone 482) numbers in a zipped Shapefile with no .prj,
    so the CRS is whatever the import declares (e.g. the wrong zone, for the zone warning)."""
    shp = folder / "shp" / f"{name}.shp"
    shp.parent.mkdir(parents=True)
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", "EPSG:5897", str(shp), str(geojson)], check=True,
                   capture_output=True)
    bundle = folder / f"{name}.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for part in shp.parent.glob(f"{name}.*"):
            if part.suffix != ".prj":
                archive.write(part, part.name)
    return bundle
