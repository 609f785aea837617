"""Signals of the registry.

`dataset_published` is sent after a dataset's data changed and the change is committed: after every publish
(`services.publish_staging_table`: uploads, the catalogue, a source's first run, a merge's build) and after a
source run that wrote changes (layers.sources.harvest). `sender` is the Dataset (the instance); the same is
passed as `dataset=`. Receivers run after the commit, so they see the new data; layers.merging queues a rebuild
of every merge that has the dataset as a member.
"""
from django.dispatch import Signal

dataset_published = Signal()


def send_after_commit(dataset) -> None:
    """Send `dataset_published` once the current transaction commits (at once outside a transaction)."""
    from django.db import transaction

    transaction.on_commit(lambda: dataset_published.send(sender=dataset, dataset=dataset))
