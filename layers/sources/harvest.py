"""One harvest run of a source: read it, check it like an upload, write only what changed, log the changes.

(Contract for the task queue; being built in issue 10.)
"""


def harvest(source_id: int, *, on_progress=None):
    """Run the source once, now, in this process; returns its SourceRun (status succeeded or failed).

    Holds the source's lock for the whole run, so a run started by hand and a scheduled one never overlap.
    """
    raise NotImplementedError("harvesting is being built (issue 10)")


def reap_interrupted_runs() -> int:
    """Mark as failed every run whose process is gone (a killed worker); their writes were never committed."""
    return 0
