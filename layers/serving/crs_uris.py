"""CRS URIs from the configuration or the request → layers.crs.CRS, with pygeoapi's error for an unknown one.

The rules themselves (spellings, CRS84, axis order) live in layers.crs; this only translates its refusal into
the provider's 400.
"""
from pygeoapi.provider.base import ProviderInvalidQueryError

from layers.crs import CRS, CRS84_URI, UnknownCRS, parse


def crs_of(crs_uri: str | None) -> CRS:
    """A CRS URI (CRS84 when absent), read by layers.crs's rules."""
    try:
        return parse(crs_uri or CRS84_URI)
    except UnknownCRS:
        raise ProviderInvalidQueryError(user_msg=f"unsupported CRS {crs_uri}") from None
