"""What a merged dataset is and what each of its builds did.

Imported by layers/models.py so that Django sees these models in the `layers` app. They carry data only: the spec
is checked by layers.merging.spec, builds run in layers.merging.build, every front door goes through
layers.merging.services.
"""
from django.conf import settings
from django.db import models


class MergedDataset(models.Model):
    """A city layer declared from member datasets and a mapping (`spec`, the same object as the YAML file and the
    REST body). `dataset` is the collection it publishes, set by its first successful build; deleting that
    dataset deletes the merge with it (CASCADE)."""

    class Overlap(models.TextChoices):
        PRIORITY = "priority", "priority: the member with priority keeps the overlap"
        CLIP = "clip", "clip: each member is clipped to its own polygon"

    slug = models.SlugField(max_length=63, unique=True, help_text="the merged collection id")
    spec = models.JSONField(help_text="the merge's declaration: metadata, crs, overlap, fields, members")
    overlap = models.CharField(max_length=10, choices=Overlap.choices, default=Overlap.PRIORITY)
    dataset = models.ForeignKey("layers.Dataset", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="merges", help_text="set by the first successful build")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = "lớp gộp / merged dataset"

    def __str__(self):
        return self.slug

    @property
    def member_slugs(self) -> list[str]:
        return [member["dataset"] for member in self.spec.get("members", [])]


class MergeBuild(models.Model):
    """One build of a merge: when, how it went, and its report (counts per member, overlaps and gaps)."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    merge = models.ForeignKey(MergedDataset, on_delete=models.CASCADE, related_name="builds")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="why it failed (names the merge, member, field and feature)")
    report = models.JSONField(default=dict, blank=True,
                              help_text="counts per member, overlaps and gaps (area m², location), timings")
    trigger = models.CharField(max_length=200, blank=True, help_text="what started it (command, REST, a member)")

    class Meta:
        ordering = ["-started", "-pk"]

    def __str__(self):
        return f"build {self.pk} of {self.merge.slug} ({self.status})"
