"""Queueing a harvest run from the front doors (admin "run now", REST, the scheduler). (Contract; issue 10.)"""


def defer_harvest(source_id: int) -> bool:
    """Queue one run of the source unless one is already queued; True when this call queued it."""
    raise NotImplementedError("the task queue is being moved to procrastinate (issue 10)")
