"""Computed summaries kept in PostgreSQL, so every worker and every restart reuses a figure computed once."""
from django.db import models


class SummaryCache(models.Model):
    """One summary's answer for one version of its dataset and of its units layer.

    The versions are the datasets' `updated` timestamps, which every replacement, harvest and metadata edit
    moves on; a row of an older version is never read again and is dropped when the new one is stored.
    """

    dataset = models.ForeignKey("layers.Dataset", on_delete=models.CASCADE, related_name="+")
    dataset_version = models.DateTimeField()
    units = models.ForeignKey("layers.Dataset", on_delete=models.CASCADE, related_name="+")
    units_version = models.DateTimeField()
    parameters = models.CharField(max_length=500, help_text="the request's normalised parameters (JSON)")
    result = models.JSONField()
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0, help_text="how long PostGIS took")

    class Meta:
        app_label = "layers"
        constraints = [models.UniqueConstraint(
            fields=["dataset", "dataset_version", "units", "units_version", "parameters"],
            name="summary_cache_key")]

    def __str__(self):
        return f"{self.dataset_id}/{self.units_id} {self.parameters}"
