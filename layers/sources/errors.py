"""The one exception a harvest run fails with: its message names the source and the field or feature at fault."""
from layers.loading import ImportRefused


class SourceFailed(ImportRefused):
    """A source answered something a run cannot publish (garbage, a hang, a dropped column, a bad key…).

    An ImportRefused, so every front door already shows it as a refusal rather than a crash.
    """


class SourceUnreachable(SourceFailed):
    """The source could not be reached (refused or cut connection, no answer in time, DNS, TLS): the same run
    may succeed later, unlike a source that answered something wrong, so the task queue retries it."""
