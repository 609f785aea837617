"""Which sources are due: the queue's periodic tick asks this every minute."""
from django.utils import timezone

from layers.sources.models import Source


def due_source_ids() -> list[int]:
    """Ids of the enabled scheduled sources whose next run time has come, oldest first.

    A run moves `next_run_at` on by the source's interval when it ends (succeeded or failed), so a source that
    keeps failing is retried at its own pace, not every tick.
    """
    return list(Source.objects.filter(enabled=True, every__isnull=False, next_run_at__lte=timezone.now())
                .order_by("next_run_at", "pk").values_list("pk", flat=True))
