"""Time one import through the service the import worker calls (Django already set up): prints seconds.

    .venv/bin/python -m bench.imports.job_timer FILE SLUG     (bench.imports runs it once per round)
"""
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdi.settings")
import django  # noqa: E402

django.setup()
from layers.registry.services import DatasetMetadata, import_vector_dataset  # noqa: E402

path, slug = sys.argv[1], sys.argv[2]
metadata = DatasetMetadata(title_vi="Thửa đất giả lập (benchmark)", title_en="Synthetic parcels (benchmark)",
                           sector="land", licence_name="synthetic", attribution="bench.data.parcels")
start = time.perf_counter()
report = import_vector_dataset(path, slug=slug, metadata=metadata, replace=True).report
# published (served, validated) and then indexed (attribute B-trees built after publishing)
print(f"{report['seconds_to_index']:.3f} {report['seconds_to_publish']:.3f}")
