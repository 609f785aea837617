"""What the merge commands share: a foreground build with a tqdm bar, and its one-line outcome."""
from django.core.management.base import CommandError
from tqdm import tqdm

from layers.loading import ImportRefused
from layers.merging.build import build
from layers.merging.models import MergeBuild, MergedDataset


def build_in_foreground(merge: MergedDataset, trigger: str, verbosity: int) -> str:
    """Build now; the outcome line, or CommandError with the build's reason (the published merge is kept)."""
    with tqdm(total=100, unit="%", desc=merge.slug, disable=verbosity == 0, leave=False) as bar:
        def progress(percent, stage):
            bar.set_postfix_str(stage)
            bar.update(max(0, percent - bar.n))
        try:
            record = build(merge.pk, trigger=trigger, on_progress=progress)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
    if record.status != MergeBuild.Status.SUCCEEDED:
        raise CommandError(record.error)
    report = record.report
    members = ", ".join(f"{slug} {c['published']}" for slug, c in report["members"].items())
    return (f"{merge.slug}: {report['features']} features ({members}); overlaps {report['overlap_area_m2']} m², "
            f"gaps {report['gap_area_m2']} m²")
