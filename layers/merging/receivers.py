"""What merges do when the registry changes (connected by layers.apps.LayersConfig.ready)."""
import logging

from django.db.models.signals import post_delete
from django.dispatch import receiver

from layers.merging.models import MergedDataset
from layers.merging.overlaps import companion_slug
from layers.registry.signals import dataset_published

log = logging.getLogger(__name__)


@receiver(dataset_published, dispatch_uid="merging.rebuild_merges_of_member")
def rebuild_merges_of_member(sender, dataset=None, **kwargs) -> None:
    """A member changed (an upload, a source run, another merge's build): queue a rebuild of each merge it is in.

    A merge's own publish does not loop: a merge is never its own member (layers.merging.spec, services)."""
    from layers.jobs.deferral import defer_merge
    from layers.merging.services import merges_with_member

    dataset = dataset or sender
    for merge in merges_with_member(dataset.slug):
        queued = defer_merge(merge.pk)
        log.info("member %s of merge %s changed: rebuild %s", dataset.slug, merge.slug,
                 "queued" if queued else "already queued")


@receiver(post_delete, sender=MergedDataset, dispatch_uid="merging.drop_companion")
def drop_companion(sender, instance: MergedDataset, **kwargs) -> None:
    """However a merge goes (deleted, or its dataset deleted: CASCADE), its overlaps collection goes with it."""
    from layers.models import Dataset
    from layers.registry.services import delete_dataset

    if Dataset.objects.filter(slug=companion_slug(instance.slug)).exists():
        delete_dataset(companion_slug(instance.slug))
