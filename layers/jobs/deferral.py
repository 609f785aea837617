"""Queueing a harvest run from the front doors (admin "run now", REST, the scheduler)."""
from django.db import transaction
from procrastinate.exceptions import AlreadyEnqueued


def source_lock(source_id: int) -> str:
    return f"source:{source_id}"


def defer_harvest(source_id: int) -> bool:
    """Queue one run of the source unless one is already queued; True when this call queued it.

    The queueing lock allows one queued run per source, the lock one running run: a run started by hand and a
    scheduled one never overlap, and a slow source does not pile up runs.
    """
    from layers.jobs.tasks import harvest_source

    lock = source_lock(source_id)
    try:
        with transaction.atomic():  # a savepoint: the refused insert must not spoil the caller's transaction
            harvest_source.configure(lock=lock, queueing_lock=lock).defer(source_id=source_id)
    except AlreadyEnqueued:
        return False
    return True


def merge_lock(merge_id: int) -> str:
    return f"merge:{merge_id}"


def defer_merge(merge_id: int) -> bool:
    """Queue one build of the merge unless one is already queued; True when this call queued it.

    A queued build reads its members when it runs, so one queued build serves every change made before it starts;
    the lock keeps two builds of one merge from running at once.
    """
    from layers.jobs.tasks import build_merge

    lock = merge_lock(merge_id)
    try:
        with transaction.atomic():
            build_merge.configure(lock=lock, queueing_lock=lock).defer(merge_id=merge_id)
    except AlreadyEnqueued:
        return False
    return True
