"""Which sources are due: the queue's periodic tick asks this every minute. (Contract; issue 10.)"""


def due_source_ids() -> list[int]:
    """Ids of the enabled scheduled sources whose next run time has come, oldest first."""
    return []
