"""Registry models: the source of truth for what the SDI publishes.

Each published Dataset is one row here plus one PostGIS table in the data schema. Models carry data only;
loading, publishing and version bumps live in `layers.registry.services`.
"""
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField


class Sector(models.Model):
    """One of the 17 sectors of Cần Thơ's shared databases (seeded by a migration)."""

    code = models.SlugField(max_length=40, unique=True)
    name_vi = models.CharField("tên (vi)", max_length=200)
    name_en = models.CharField("name (en)", max_length=200)
    ordering = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["ordering"]

    def __str__(self):
        return f"{self.name_vi} / {self.name_en}"


class Agency(models.Model):
    """The department or organisation that owns a dataset."""

    code = models.SlugField(max_length=60, unique=True)
    name_vi = models.CharField("tên (vi)", max_length=300)
    name_en = models.CharField("name (en)", max_length=300, blank=True)
    url = models.URLField(blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["code"]

    def __str__(self):
        return self.name_vi


class Dataset(models.Model):
    """A published vector dataset and the PostGIS table that holds its features."""

    GEOMETRY_TYPES = [
        (t, t)
        for t in ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "Geometry")
    ]

    slug = models.SlugField(max_length=63, unique=True, help_text="collection id in the OGC API")
    title_vi = models.CharField("tiêu đề (vi)", max_length=300)
    title_en = models.CharField("title (en)", max_length=300)
    abstract_vi = models.TextField("tóm tắt (vi)", blank=True)
    abstract_en = models.TextField("abstract (en)", blank=True)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="datasets")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="datasets", null=True, blank=True)
    licence_name = models.CharField(max_length=200)
    licence_url = models.URLField(blank=True)
    attribution = models.TextField(help_text="credit line shown with the data")
    keywords = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    source = models.TextField(blank=True, help_text="where the data came from (file, URL, upstream)")

    # What the loader measured; never typed by hand.
    table_schema = models.CharField(max_length=63)
    table_name = models.CharField(max_length=63)
    id_field = models.CharField(max_length=63, default="fid")
    geometry_field = models.CharField(max_length=63, default="geom")
    storage_srid = models.PositiveIntegerField(help_text="EPSG code of the table's geometry column")
    geometry_type = models.CharField(max_length=20, choices=GEOMETRY_TYPES)
    feature_count = models.PositiveBigIntegerField(default=0)
    extent = models.PolygonField(srid=4326, null=True, blank=True, help_text="bounding box in WGS 84")
    attribute_schema = models.JSONField(
        default=list, blank=True, help_text='columns in source order: [{"name": ..., "type": ...}]'
    )

    class Access(models.TextChoices):
        PUBLIC = "public", "Công khai / public"
        INTERNAL = "internal", "Nội bộ / internal (signed-in users and tokens)"
        RESTRICTED = "restricted", "Hạn chế / restricted (named users and groups)"

    class Frequency(models.TextChoices):  # ISO 19115 MD_MaintenanceFrequencyCode
        CONTINUAL = "continual", "continual"
        DAILY = "daily", "daily"
        WEEKLY = "weekly", "weekly"
        MONTHLY = "monthly", "monthly"
        QUARTERLY = "quarterly", "quarterly"
        ANNUALLY = "annually", "annually"
        AS_NEEDED = "asNeeded", "as needed"
        IRREGULAR = "irregular", "irregular"
        NOT_PLANNED = "notPlanned", "not planned"
        UNKNOWN = "unknown", "unknown"

    time_field = models.CharField(max_length=63, blank=True, help_text="date/time column that `datetime=` filters")
    temporal_begin = models.DateTimeField(null=True, blank=True)
    temporal_end = models.DateTimeField(null=True, blank=True)
    districts = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                           help_text="Cần Thơ districts the data covers (computed from the district layer)")
    update_frequency = models.CharField(max_length=20, choices=Frequency.choices, default=Frequency.UNKNOWN)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)

    access_level = models.CharField(max_length=12, choices=Access.choices, default=Access.PUBLIC)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_datasets",
                                    help_text="may replace or delete the dataset")
    allowed_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="readable_datasets",
                                           help_text="may see a restricted dataset")
    allowed_groups = models.ManyToManyField(Group, blank=True, related_name="readable_datasets",
                                            help_text="members may see a restricted dataset")

    published = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    @property
    def qualified_table(self) -> str:
        return f"{self.table_schema}.{self.table_name}"

    @property
    def fields(self) -> dict:
        """Attribute columns in source order, as pygeoapi's provider `fields` (name -> JSON Schema)."""
        return {column["name"]: {k: v for k, v in column.items() if k != "name"} for column in self.attribute_schema}


class RegistryVersion(models.Model):
    """A single row whose counter changes whenever what is published changes.

    Every worker compares it with the version its cached pygeoapi configuration was built from, so a change
    made by any process is served by all of them on their next request, without a restart.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.PositiveBigIntegerField(default=0)
    changed = models.DateTimeField(auto_now=True)


class ImportJob(models.Model):
    """One requested load, queued in PostgreSQL and run by the import worker (no other broker)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    slug = models.SlugField(max_length=63)
    source_path = models.TextField(help_text="file or folder on the server (uploads are saved first)")
    options = models.JSONField(default=dict, help_text="layer, crs, encoding, replace, repair, metadata")
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True, help_text="why it failed, or what was published")
    report = models.JSONField(default=dict, blank=True, help_text="what validation found and did")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # Who runs it: a running job whose owner no longer holds its advisory lock was interrupted (layers.jobs.owner).
    owner = models.CharField(max_length=200, blank=True, help_text="host and process running the job")
    owner_token = models.IntegerField(null=True, blank=True)
    # What an interrupted run leaves behind, recorded before it is made, so that another process can clean up.
    scratch = models.JSONField(default=dict, blank=True, help_text="staging table and temporary folder")
    published_at = models.DateTimeField(null=True, blank=True,
                                        help_text="set in the transaction that published the data")

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"import {self.slug} ({self.status})"


class WorkerHeartbeat(models.Model):
    """The import worker's sign of life, written every few seconds; /readyz reads it."""

    name = models.CharField(max_length=200, unique=True, help_text="host:pid")
    beat = models.DateTimeField()
    state = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.name} ({self.state})"


from layers.sources.models import FeatureChange, Source, SourceRun  # noqa: E402,F401 (Django finds them here)
from layers.summaries.models import SummaryCache  # noqa: E402,F401 (Django finds it here)
from layers.merging.models import MergeBuild, MergedDataset  # noqa: E402,F401 (Django finds them here)
