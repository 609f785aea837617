"""The address a request came from, for the login limits (AXES_CLIENT_IP_CALLABLE)."""
import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, unless it is one of SDI_TRUSTED_PROXIES (nginx on this machine: 127.0.0.1).

    Behind a trusted proxy it is the right-most X-Forwarded-For entry that is not itself a trusted proxy: the
    address the outermost trusted proxy saw. Entries further left were written by the client, so they are never
    used; otherwise an attacker would choose a fresh address for every guess. Without SDI_TRUSTED_PROXIES the
    header is ignored altogether (behind nginx every client then shares nginx's address).
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    remote = remote if _is_address(remote) else None  # e.g. "" behind a unix socket: axes stores an inet
    trusted = settings.SDI_TRUSTED_PROXIES
    if remote not in trusted:
        return remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        if hop and hop not in trusted:
            return hop if _is_address(hop) else remote
    return remote


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
