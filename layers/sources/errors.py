"""The one exception a harvest run fails with: its message names the source and the field or feature at fault."""
from layers.loading import ImportRefused


class SourceFailed(ImportRefused):
    """A source answered something a run cannot publish (garbage, a hang, a dropped column, a bad key…).

    An ImportRefused, so every front door already shows it as a refusal rather than a crash.
    """
