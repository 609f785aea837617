"""Run a source once, now, in the foreground."""
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from layers.loading import ImportRefused
from layers.sources.harvest import harvest
from layers.sources.models import Source, SourceRun


class Command(BaseCommand):
    # Django's system checks import the whole OGC API (pygeoapi) to check URLs: ~1.5 s a run, for nothing here.
    requires_system_checks = []
    help = ("Harvest the source of dataset SLUG once, now: read it, check it like an upload, write only what "
            "changed. Exits 0 when the run succeeded; otherwise non-zero with the reason (nothing published is "
            "changed then). Refused while another run of the source is in progress.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the dataset the source feeds")

    def handle(self, *args, slug, **options):
        source = Source.objects.filter(slug=slug).first()
        if source is None:
            raise CommandError(f"no source for dataset {slug!r} (register one with manage.py add_source)")
        with tqdm(total=100, unit="%", desc=slug, disable=options["verbosity"] == 0, leave=False) as bar:
            def progress(percent, stage):
                bar.set_postfix_str(stage)
                bar.update(max(0, percent - bar.n))
            try:
                run = harvest(source.pk, on_progress=progress)
            except ImportRefused as exc:
                raise CommandError(str(exc)) from None
        if run.status != SourceRun.Status.SUCCEEDED:
            raise CommandError(run.error)
        note = " (first run: dataset published)" if run.report.get("first_run") else ""
        self.stdout.write(self.style.SUCCESS(
            f"{slug}: {run.added} added, {run.changed} changed, {run.removed} removed{note}"))
