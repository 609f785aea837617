"""Registry models: the source of truth for what the SDI publishes.

Each published Dataset is one row here plus one PostGIS table in the data schema. Models carry data only;
loading, publishing and version bumps live in `layers.services`.
"""
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
