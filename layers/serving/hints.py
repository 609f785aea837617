"""What the web layer tells the provider about one /items request, beyond pygeoapi's query() arguments.

pygeoapi calls `query()` with parsed parameters only. The web layer (sdi/ogcapi/paging.py) parses the rest of
the request and sets a PageHint for the provider: the provider reads no URL and no query string.
"""
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestedBox:
    """The bbox as the client sent it (x/y order, its CRS), so the provider can test the exact box.

    pygeoapi hands the provider only the bounds of the box transformed into the storage CRS, which is a larger,
    axis-aligned box once the CRSs differ (a lon/lat box is turned ~0.1° in VN-2000 TM-3)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    srid: int


@dataclass(frozen=True)
class PageEnd:
    """Where a page ended, for the web layer to write its prev/next links."""

    offset: int
    limit: int
    more: bool  # rows follow this page (the provider read one row past it)
    last_id: int | None  # the largest id on the page (keyset pages are in id order)
    keyset: bool  # the next page can start after last_id (pages in id order), rather than at an offset


@dataclass
class PageOutcome:
    """What the provider hands back besides the collection: PostGIS's features JSON (raw_json), which the web
    layer splices into pygeoapi's response. Parsing it into Python and serialising it again was ¾ of the time
    of a 1000-feature page; it stays the UTF-8 bytes PostgreSQL sent, since decoding them into a str and
    encoding that again for the response was another fifth of a worker's time."""

    features_json: bytes | None = None


@dataclass(frozen=True)
class PageHint:
    cursor: int | None = None  # keyset: the page starts after this id (the `cursor` of a next link)
    keyset_links: bool = False  # next links may be keyset links (machine formats; HTML pages by offset)
    raw_json: bool = False  # leave `features` empty and put the JSON (UTF-8 bytes) in `outcome.features_json`
    box: RequestedBox | None = None  # the exact box the client drew, where its CRS is defined
    links: Callable[[PageEnd], list[dict]] | None = None  # the page's prev/next links, which are ours alone
    outcome: PageOutcome = field(default_factory=PageOutcome)


# Set per /items request by the web layer; unset (the provider used on its own), pygeoapi's links are used.
current_page_hint: ContextVar[PageHint | None] = ContextVar("current_page_hint", default=None)
