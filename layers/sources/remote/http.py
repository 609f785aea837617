"""Every HTTP read of a remote source: http/https only, checked redirects, timeouts, a byte cap, no secrets shown.

One `Fetcher` serves one download (all its pages), so the total timeout and the byte cap count over every
page. Messages and logs name the source by its label: the URL without `user:password@` and with the value of
every query parameter that is not a known protocol parameter hidden (`?token=***`), so a token given in the URL
never reaches a log, a run's error or a page. The password is sent (HTTP Basic) only to the origin the source
was registered with, never to another host a redirect points at.

Private and loopback addresses are allowed on purpose: the city's sector servers sit on private networks.
Only an admin registers a source, and what a source answers is loaded as data; see docs/sources-remote.md.
"""
import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3

from layers.sources.errors import SourceFailed, SourceUnreachable
from layers.sources.remote.contract import RemoteLimits

log = logging.getLogger("layers.sources.remote")

USER_AGENT = "CanTho-SDI-harvester/1.0 (Can Tho spatial data infrastructure; sources kept in sync)"
SCHEMES = ("http", "https")
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
# Query parameters whose values are shown in labels (protocol words, never secrets); every other value is ***.
PUBLIC_PARAMS = {"f", "limit", "offset", "cursor", "crs", "bbox", "bbox-crs", "datetime", "service", "version",
                 "request", "typename", "typenames", "outputformat", "srsname", "count", "startindex",
                 "maxfeatures", "acceptversions", "resulttype", "layer", "layers", "collection", "format"}
HTML_TYPES = ("text/html", "application/xhtml+xml")
OWS_EXCEPTION = re.compile(r"<(?:[\w.-]+:)?ExceptionText[^>]*>(.*?)</", re.S)  # a WFS/OWS error's words

Progress = Callable[[int, int | None, str], None]  # (done, total or None, unit: "B" or "features")


@dataclass(frozen=True)
class SourceURL:
    url: str                            # what is requested: the URL without user:password@
    label: str                          # how messages and logs name the source
    auth: tuple[str, str] | None        # HTTP Basic credentials from the URL, for its own origin only
    secrets: tuple[str, ...]            # strings never to be shown (the password, hidden query values)

    def scrub(self, text: str) -> str:
        """`text` with every secret of this URL replaced by ***, the last guard before a message leaves."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def public_url(url: str) -> str:
    """`url` as it may be shown: no user:password@, no fragment, hidden values for non-protocol parameters."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an unreadable URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    query = "&".join(f"{key}={value if key.lower() in PUBLIC_PARAMS else '***'}"
                     for key, value in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, query, ""))


def parse_source_url(url: str) -> SourceURL:
    """Check that `url` is an http(s) URL with a host, and split off its credentials."""
    text = url.strip()
    label = public_url(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise SourceFailed(f"{label}: not a valid URL") from None
    if parts.scheme.lower() not in SCHEMES:
        said = f"a {parts.scheme}: URL" if parts.scheme else "a URL without http:// or https://"
        raise SourceFailed(f"{label}: only http and https sources are read, not {said}")
    if not parts.hostname:
        raise SourceFailed(f"{label}: the URL names no host")
    secrets = [value for key, value in parse_qsl(parts.query, keep_blank_values=True)
               if key.lower() not in PUBLIC_PARAMS and len(value) >= 4]
    auth = None
    if parts.username is not None or parts.password is not None:
        auth = (unquote(parts.username or ""), unquote(parts.password or ""))
        secrets += [s for s in (parts.password, auth[1]) if s and len(s) >= 4]
    netloc = parts.netloc.rpartition("@")[2]
    bare = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    return SourceURL(bare, label, auth, tuple(sorted(set(secrets), key=len, reverse=True)))


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def with_params(url: str, params: dict, *, replace: bool = True) -> str:
    """`url` with `params` set in its query (replacing same-named ones, case-insensitively, when `replace`)."""
    parts = urlsplit(url)
    names = {key.lower() for key in params}
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not (replace and k.lower() in names)]
    return urlunsplit(parts._replace(query=urlencode(kept + [(k, str(v)) for k, v in params.items()])))


def size_text(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"


class Fetcher:
    """The HTTP client of one download: one session, one deadline and one byte budget over every request."""

    def __init__(self, source: SourceURL, limits: RemoteLimits, on_progress: Progress | None = None):
        self.source = source
        self.limits = limits
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.bytes_read = 0
        self._left = limits.total_timeout  # time left of the total timeout when the current request was sent
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy, .netrc or CA bundle from the environment: what is read is what is set
        self.session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self.session.close()

    def failure(self, what: str, where: str | None = None, kind: type[SourceFailed] = SourceFailed) -> SourceFailed:
        """The SourceFailed of this source: '<label> (<where>): <what>', with every secret scrubbed."""
        place = f" ({where})" if where else ""
        return kind(self.source.scrub(f"{self.source.label}{place}: {what}"))

    def progress(self, done: int, total: int | None, unit: str) -> None:
        if self.on_progress:
            self.on_progress(done, total, unit)

    # --- requests -------------------------------------------------------------------------------------------

    def _remaining(self, where: str | None) -> float:
        left = self.limits.total_timeout - (time.monotonic() - self.started)
        if left <= 0:
            raise self.failure(f"took longer than {self.limits.total_timeout:g} s in all (the total timeout)", where)
        return left

    @contextmanager
    def get(self, url: str, accept: str, where: str | None = None) -> Iterator[requests.Response]:
        """GET `url` and yield its streaming 2xx response; redirects are followed (at most max_redirects),
        each target checked like the source URL; any other answer is a failure naming its status."""
        current = url
        for _ in range(self.limits.max_redirects + 1):
            left = self._remaining(where)
            self._left = left
            auth = self.source.auth if origin(current) == origin(self.source.url) else None
            log.debug("GET %s", public_url(current))
            try:
                response = self.session.get(
                    current, headers={"Accept": accept}, auth=auth, stream=True, allow_redirects=False,
                    timeout=(min(self.limits.connect_timeout, left), min(self.limits.read_timeout, left)))
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise self.failure(self.network_reason(exc), where, SourceUnreachable) from None
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                target = urljoin(current, response.headers["Location"])
                response.close()
                scheme = urlsplit(target).scheme.lower()
                if scheme not in SCHEMES:
                    raise self.failure(f"redirected to a {scheme or 'schemeless'}: URL; only http and https "
                                       "are followed", where)
                current = target
                continue
            try:
                if not 200 <= response.status_code < 300:
                    raise self.failure(f"answered HTTP {response.status_code} {response.reason or ''}".rstrip()
                                       + self._error_excerpt(response), where)
                yield response
            finally:
                response.close()
            return
        raise self.failure(f"redirected more than {self.limits.max_redirects} times", where)

    def _error_excerpt(self, response: requests.Response) -> str:
        """A few words of an error answer (an OGC exception's description), to say why the server refused."""
        try:
            body = next(response.iter_content(4096), b"")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
            return ""
        text = body.decode("utf-8", "replace")
        ows = OWS_EXCEPTION.search(text)
        if ows:
            text = html.unescape(ows.group(1))
        try:
            document = json.loads(text)
            text = str(document.get("description") or document.get("detail") or "") if isinstance(document, dict) else ""
        except ValueError:
            if text.lstrip().startswith("<"):
                text = ""  # an HTML error page says nothing useful in one line
        text = " ".join(text.split())[:200]
        return f" ({text})" if text else ""

    def chunks(self, response: requests.Response, where: str | None = None) -> Iterator[bytes]:
        """The body of `response`, counted against the byte cap and the total timeout as it arrives."""
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and self.bytes_read + int(length) > self.limits.max_bytes:
            raise self.failure(f"is larger than the limit of {size_text(self.limits.max_bytes)} "
                               f"(it announced {size_text(int(length))})", where)
        try:
            for chunk in response.iter_content(CHUNK):
                self.bytes_read += len(chunk)
                if self.bytes_read > self.limits.max_bytes:
                    raise self.failure(f"is larger than the limit of {size_text(self.limits.max_bytes)}", where)
                self._remaining(where)
                yield chunk
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self.failure(self.network_reason(exc), where, SourceUnreachable) from None

    def read(self, url: str, accept: str, where: str | None = None) -> tuple[bytes, str, dict]:
        """The whole body of `url` (one page), its media type (lower case, no parameters) and its headers."""
        with self.get(url, accept, where) as response:
            body = b"".join(self.chunks(response, where))
            return body, media_type(response), response.headers

    def save(self, url: str, accept: str, path: Path, where: str | None = None) -> requests.Response:
        """Stream `url` into `path`; returns the (closed) response for its headers."""
        with self.get(url, accept, where) as response:
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            done = 0
            with open(path, "wb") as out:
                for chunk in self.chunks(response, where):
                    out.write(chunk)
                    done += len(chunk)
                    self.progress(done, total, "B")
            return response

    def parse_json(self, body: bytes, media: str, expected: str, where: str | None = None):
        """`body` parsed as JSON, or a failure saying what came instead (HTML, XML, nothing, cut-off JSON)."""
        start = body.lstrip()[:1]
        if media in HTML_TYPES or (start == b"<" and "json" not in media):
            raise self.failure(f"answered {media or 'markup'}, not {expected}", where)
        if not start:
            raise self.failure(f"answered an empty body, not {expected}", where)
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            cut = "malformed" if body.rstrip().endswith((b"}", b"]")) else "cut off"
            raise self.failure(f"answered {expected} that is {cut} ({exc.msg}: line {exc.lineno} column "
                               f"{exc.colno})", where) from None
        except (UnicodeDecodeError, ValueError):
            raise self.failure(f"answered bytes that are not UTF-8 JSON, not {expected}", where) from None

    def network_reason(self, exc: BaseException) -> str:
        """What went wrong on the wire, in words that never include the URL (requests' own messages do)."""
        chain = list(_causes(exc))
        total = f"took longer than {self.limits.total_timeout:g} s in all (the total timeout)"
        if any(isinstance(e, requests.ConnectTimeout) or (  # urllib3's refused connection is a ConnectTimeoutError too
                isinstance(e, urllib3.exceptions.ConnectTimeoutError)
                and not isinstance(e, urllib3.exceptions.NewConnectionError)) for e in chain):
            # (the timeouts of a request are cut to what is left of the total one; say which limit it was)
            return total if self._left < self.limits.connect_timeout else \
                f"could not connect within {self.limits.connect_timeout:g} s"
        if any(isinstance(e, (requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError))
               for e in chain):
            return total if self._left < self.limits.read_timeout else \
                f"sent nothing for {self.limits.read_timeout:g} s (the read timeout)"
        if any(isinstance(e, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError,
                              urllib3.exceptions.IncompleteRead)) for e in chain) and not any(
                isinstance(e, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError)) for e in chain):
            return "closed the connection before its answer was complete"
        if any(isinstance(e, requests.exceptions.SSLError) for e in chain):
            return "the TLS connection failed (an untrusted certificate or a refused handshake)"
        if any(isinstance(e, requests.exceptions.ContentDecodingError) for e in chain):
            return "sent a compressed answer that cannot be decompressed"
        for e in chain:
            if isinstance(e, OSError) and e.strerror:
                return f"could not connect ({e.strerror})"
        if any(isinstance(e, urllib3.exceptions.NameResolutionError) for e in chain):
            return "could not connect (the host name does not resolve)"
        if any(isinstance(e, requests.ConnectionError) for e in chain):
            return "could not connect"
        return f"the request failed ({type(exc).__name__})"


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _causes(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """`exc` and what it wraps (cause, context, urllib3's `reason`, exceptions in args), a few levels deep."""
    if exc is None or depth > 6:
        return
    yield exc
    inner = [exc.__cause__, exc.__context__, getattr(exc, "reason", None)]
    inner += [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
    for item in inner:
        if isinstance(item, BaseException) and item is not exc:
            yield from _causes(item, depth + 1)
