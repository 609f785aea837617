"""A sector database's connection: its password kept encrypted at rest, and never in a message.

The password of a DSN is split off when the source is registered and stored encrypted with Fernet
(`cryptography`). The key is SDI_SOURCE_KEY when it is set (a Fernet key: `python -c "from cryptography.fernet
import Fernet; print(Fernet.generate_key().decode())"`), otherwise derived from SDI_SECRET_KEY (HKDF-SHA256), so
a development checkout needs nothing more; production should set SDI_SOURCE_KEY, since rotating the Django
secret key would otherwise make the stored passwords unreadable. A DSN without a password (`service=NAME`, or a
~/.pgpass entry) stores no secret at all: libpq finds the password itself.
"""
import base64
import re

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from layers.sources.errors import SourceFailed

HIDDEN = "***"
# What a source's DSN may say. Not passfile, sslkey, sslcert, sslrootcert…: libpq would read those files on the
# server on behalf of whoever registered the source; not options: the SDI sets the session's own options.
ALLOWED_PARAMETERS = ("host", "hostaddr", "port", "dbname", "user", "password", "service", "sslmode",
                      "target_session_attrs", "keepalives", "keepalives_idle", "keepalives_interval",
                      "keepalives_count", "application_name")


def _fernet() -> Fernet:
    if settings.SDI_SOURCE_KEY:
        try:
            return Fernet(settings.SDI_SOURCE_KEY.encode())
        except ValueError:
            raise SourceFailed("SDI_SOURCE_KEY is not a Fernet key (32 url-safe base64-encoded bytes)") from None
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cantho-sdi-sources",
                   info=b"source passwords").derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SourceFailed("the stored password of this source cannot be decrypted (SDI_SOURCE_KEY or "
                           "SDI_SECRET_KEY changed since it was registered): register the source's DSN again") from None


def split_dsn(dsn: str) -> tuple[str, str]:
    """(the DSN without its password, the password) from a libpq key=value string or a postgresql:// URI."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # psycopg's message quotes the string, password and all
        raise SourceFailed("the PostgreSQL connection string cannot be read (use 'host=… dbname=… user=… "
                           "password=…', a postgresql:// URI or 'service=NAME')") from None
    refused = sorted(set(params) - set(ALLOWED_PARAMETERS))
    if refused:
        raise SourceFailed(f"the PostgreSQL connection string may not set {refused[0]!r} (allowed: "
                           f"{', '.join(ALLOWED_PARAMETERS)})")
    _refuse_own_database(params)
    password = params.pop("password", None) or ""
    return make_conninfo(**{k: v for k, v in params.items() if v is not None}), password


LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


def _host(value: str | None) -> str:
    value = value or ""
    return "localhost" if value in LOCAL_HOSTS or value.startswith("/") else value  # "/…": a local socket


def _refuse_own_database(params: dict) -> None:
    """The SDI's own database is not a sector's: a source reading it could publish what the registry restricts."""
    own = settings.DATABASES["default"]
    if _host(params.get("host") or params.get("hostaddr")) == _host(own.get("HOST")) and \
            str(params.get("port") or 5432) == str(own.get("PORT") or 5432) and params.get("dbname") == own["NAME"]:
        raise SourceFailed("the SDI's own database cannot be a source: point the source at the sector's database")


def full_dsn(dsn: str, secret: str) -> str:
    password = decrypt(secret)
    return make_conninfo(dsn, password=password) if password else dsn


def label(dsn: str) -> str:
    """How messages name a database: user@host:port/dbname (or the service), never the password."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        return "PostgreSQL"
    if params.get("service") and not params.get("host"):
        return f"service {params['service']}"
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"{user}{params.get('host') or 'localhost'}{port}/{params.get('dbname') or ''}"


def scrub(message: str, *secrets: str) -> str:
    """A driver's message without any secret it may quote (the password, or a whole DSN holding it)."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, HIDDEN)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", rf"\1{HIDDEN}", message, flags=re.IGNORECASE)
