"""Who is asking: a Django session (browser) or an API token (QGIS sends it as an Authorization header)."""
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

TOKEN_SCHEMES = ("token", "bearer")


class InvalidToken(Exception):
    """An Authorization header was sent but names no active user."""


def request_user(request):
    header = request.headers.get("Authorization", "")
    if not header:
        return getattr(request, "user", None) or AnonymousUser()
    scheme, _, key = header.partition(" ")
    if scheme.lower() not in TOKEN_SCHEMES or not key.strip():
        raise InvalidToken("Authorization header must be 'Token <key>' or 'Bearer <key>'")
    token = Token.objects.select_related("user").filter(key=key.strip()).first()
    if token is None or not token.user.is_active:
        raise InvalidToken("invalid or expired API token")
    return token.user
