"""The provider's tuning, read from the environment once in sdi/settings.py (SDI_SERVING) and handed to the
provider in its definition: the provider itself reads no environment and no Django settings."""
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class ServingOptions:
    # Filtered pages count their matches exactly only when the planner expects at most this many (else the
    # count would cost more than the page); resulttype=hits always counts.
    exact_count_max_rows: int = 50_000
    statement_timeout_ms: int = 30_000  # every provider query is cancelled after this
    pool_size: int = 4  # connections per process (each gunicorn worker has its own pool)

    def as_definition(self) -> dict:
        """The `serving` entry of a provider definition (pygeoapi's configuration holds plain data)."""
        return asdict(self)

    @classmethod
    def from_definition(cls, value: dict | None) -> "ServingOptions":
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (value or {}).items() if k in known})
