"""What a source is, what each of its runs did, and which features each run added, changed or removed.

Imported by layers/models.py so that Django sees these models in the `layers` app. Like the registry's models,
they carry data only: registering and harvesting live in layers.sources.services and layers.sources.harvest.
"""
from django.conf import settings
from django.contrib.gis.db import models
from django.db import connection
from django.db.models.signals import post_delete
from django.dispatch import receiver
from psycopg import sql

KEYS_SCHEMA = "sdi_sources"


class Source(models.Model):
    """A dataset kept in sync with a sector's own database or service.

    `slug` is the dataset it feeds; the first successful run creates that dataset and links it (`dataset`), so
    deleting the dataset deletes its source, runs and change log with it (CASCADE).
    """

    class Kind(models.TextChoices):
        POSTGRES = "postgres", "PostgreSQL/PostGIS"
        OGCAPI = "ogcapi", "OGC API – Features"
        WFS = "wfs", "WFS 2.0"
        FILE = "file", "GeoJSON/CSV/zipped Shapefile at a URL"

    slug = models.SlugField(max_length=63, unique=True, help_text="the dataset it feeds (collection id)")
    dataset = models.ForeignKey("layers.Dataset", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="sources", help_text="set by the first successful run")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    url = models.TextField(blank=True, help_text="remote kinds: the file, collection or WFS URL")
    # PostgreSQL: the libpq connection string WITHOUT its password (or a `service=` name); the password, when
    # one was given, is kept encrypted in `secret` (layers.sources.credentials), never shown.
    dsn = models.TextField(blank=True, help_text="connection string without password (or service=NAME)")
    secret = models.TextField(blank=True, editable=False, help_text="encrypted password (Fernet)")
    table = models.CharField(max_length=200, blank=True, help_text="PostgreSQL: SCHEMA.TABLE (or view)")
    key_field = models.CharField(max_length=63, help_text="the column whose value names a feature for good")
    every = models.DurationField(null=True, blank=True, help_text="run by itself this often (empty: by hand)")
    srid = models.PositiveIntegerField(null=True, blank=True, help_text="declared CRS (EPSG code); empty: read it")
    metadata = models.JSONField(default=dict, blank=True,
                                help_text="DatasetMetadata values for the dataset the first run creates")
    # The published table a run last wrote (pg_class oid): an upload that replaced the dataset since makes a new
    # table with new fids, so the next run publishes in full instead of trusting the keys' fids.
    table_oid = models.BigIntegerField(null=True, blank=True, editable=False)
    # The sector's transaction context at the last run (postgres.SectorDatabase.versions): the stored xmins are
    # compared with the sector's only while it is the same cluster, database and table, and the counter moved on.
    sector_state = models.JSONField(default=dict, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return f"{self.slug} ({self.kind})"


class SourceRun(models.Model):
    """One harvest of a source: when, what came of it, and who ran it (a lease, like ImportJob's)."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    added = models.PositiveBigIntegerField(default=0)
    changed = models.PositiveBigIntegerField(default=0)
    removed = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True, help_text="why it failed (names the source, field or feature)")
    report = models.JSONField(default=dict, blank=True)
    # A running run whose owner no longer holds its advisory lock was interrupted (layers.jobs.owner).
    owner = models.CharField(max_length=200, blank=True)
    owner_token = models.IntegerField(null=True, blank=True)
    staging = models.CharField(max_length=63, blank=True, help_text="staging table, for clean-up after a kill")

    class Meta:
        ordering = ["-started", "-pk"]

    def __str__(self):
        return f"run {self.pk} of {self.source.slug} ({self.status})"


class FeatureChange(models.Model):
    """The change log: one feature added, changed or removed by one run, with its old and new values.

    Values are the feature's properties plus `geometry` (GeoJSON, WGS 84). A first run that creates the dataset
    writes one summary entry (key empty, new = {"features": N}) rather than a copy of every feature.
    """

    class Action(models.TextChoices):
        ADDED = "added", "added"
        CHANGED = "changed", "changed"
        REMOVED = "removed", "removed"

    dataset = models.ForeignKey("layers.Dataset", on_delete=models.CASCADE, related_name="changes")
    run = models.ForeignKey(SourceRun, null=True, on_delete=models.CASCADE, related_name="changes")
    key = models.TextField(blank=True, help_text="the feature's key (empty: the whole dataset)")
    fid = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    time = models.DateTimeField()

    class Meta:
        ordering = ["-time", "-pk"]
        indexes = [models.Index(fields=["dataset", "time"], name="featurechange_dataset_time")]

    def __str__(self):
        return f"{self.action} {self.key} ({self.dataset_id})"


def keys_table(source_id: int) -> sql.Composed:
    """The source's key table (key text PRIMARY KEY, hash bigint, fid bigint, version bigint): the source-side hash
    of each published feature, by key, its published id, and `version`, the xmin of the sector's row (NULL for a view or a
    remote source). A re-harvest of a table fetches only rows whose xmin changed, and of those writes only the
    ones whose hash changed; of a view, it compares every hash; `fid` stays the feature's id for good.

    One plain table per source rather than a model: the first run moves its staging table here and builds the
    primary key in bulk, several times faster than inserting a million rows into one shared index.
    """
    return sql.SQL("{}.{}").format(sql.Identifier(KEYS_SCHEMA), sql.Identifier(f"source_{source_id}_keys"))


@receiver(post_delete, sender=Source)
def drop_keys_table(sender, instance: Source, **kwargs) -> None:
    """However a source goes (deleting it, or its dataset by CASCADE), its key table goes with it."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(keys_table(instance.pk)))
