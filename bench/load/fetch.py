"""One plain HTTP GET (urllib, no keep-alive), for checks and walks outside wrk."""
import urllib.error
import urllib.request


def http_get(url: str, timeout: float = 60) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
