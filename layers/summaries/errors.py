"""What a summary request can be refused for, shared by the engine and its front doors."""


class SummaryRefused(ValueError):
    """A request that cannot be answered as asked (HTTP 400); `field` names the parameter at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotVisible(LookupError):
    """The dataset or the units layer does not exist for this user (HTTP 404, never 403: no hint it exists)."""

    def __init__(self, slug: str):
        super().__init__(f"no dataset {slug!r}")
        self.slug = slug
