"""Settings, 12-factor: everything that differs between machines comes from the environment.

DATABASE_URL            postgis://user:pass@host:port/db (default: the project-local cluster of deploy/postgis.sh,
                        on SDI_PG_PORT, default 54329)
SDI_SECRET_KEY          Django secret key (a fixed dev key is used when SDI_DEBUG=1 or unset in dev)
SDI_DEBUG               1 to enable Django debug pages
SDI_ALLOWED_HOSTS       comma-separated host names (default: localhost,127.0.0.1,[::1])
SDI_BASE_URL            public base URL, e.g. https://sdi.cantho.gov.vn (default: taken from each request)
SDI_CORS_ALLOWED_ORIGINS comma-separated origins allowed to call /ogcapi/ from a browser, or * (default: *)
SDI_ITEMS_DEFAULT_LIMIT / SDI_ITEMS_MAX_LIMIT   page size of /items (default 100 / 10000)
SDI_UPLOAD_DIR          where uploads are kept until imported (default .sdi/uploads)
SDI_MAX_UPLOAD_MB / SDI_MAX_UNCOMPRESSED_MB      upload size and unpacked-archive size limits (512 / 4096)
SDI_DISTRICTS_DATASET   dataset used to compute which districts a dataset covers (default cantho-districts)
SDI_LOG_LEVEL           INFO by default
"""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = os.environ.get("SDI_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("SDI_SECRET_KEY", "dev-only-insecure-key-set-SDI_SECRET_KEY-in-production")
ALLOWED_HOSTS = env_list("SDI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
SDI_BASE_URL = os.environ.get("SDI_BASE_URL", "").rstrip("/") or None

# Behind an HTTPS proxy (nginx sets X-Forwarded-Proto): secure cookies, and the admin's CSRF check trusts
# the public origin.
if SDI_BASE_URL and SDI_BASE_URL.startswith("https://"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [SDI_BASE_URL]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or "postgis://{user}:{password}@127.0.0.1:{port}/{db}".format(
            user=os.environ.get("SDI_PG_USER", "sdi"), password=os.environ.get("SDI_PG_PASSWORD", "sdi"),
            port=os.environ.get("SDI_PG_PORT", "54329"), db=os.environ.get("SDI_PG_DB", "sdi")),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=600,
        conn_health_checks=True,
    )
}
# PostgreSQL's JIT spends ~0.4 s compiling every query that calls costly PostGIS functions (validation,
# transforms) and wins nothing back on our short queries.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "layers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# OGC API clients (QGIS) reject layers whose links redirect: never add slashes behind their back.
APPEND_SLASH = False

ROOT_URLCONF = "sdi.urls"
WSGI_APPLICATION = "sdi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Browser maps call the OGC API from other origins.
_cors = env_list("SDI_CORS_ALLOWED_ORIGINS", "*")
CORS_ALLOW_ALL_ORIGINS = _cors == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else _cors
CORS_URLS_REGEX = r"^/ogcapi(/.*)?$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST"]
CORS_EXPOSE_HEADERS = ["Content-Crs", "Content-Language", "Link"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
}

# Paths and limits of the SDI itself.
SDI_CONFIG_DIR = BASE_DIR / "config"
SDI_PYGEOAPI_BASE_CONFIG = SDI_CONFIG_DIR / "pygeoapi.base.yml"
SDI_DEFAULT_DATASETS = SDI_CONFIG_DIR / "datasets.yml"
SDI_DATA_SCHEMA = "sdi_data"
SDI_STAGING_SCHEMA = "sdi_staging"
SDI_DISTRICTS_DATASET = os.environ.get("SDI_DISTRICTS_DATASET", "cantho-districts")
SDI_UPLOAD_DIR = Path(os.environ.get("SDI_UPLOAD_DIR", BASE_DIR / ".sdi" / "uploads"))
SDI_MAX_UPLOAD_BYTES = int(os.environ.get("SDI_MAX_UPLOAD_MB", "512")) * 1024 * 1024
SDI_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("SDI_MAX_UNCOMPRESSED_MB", "4096")) * 1024 * 1024
SDI_ITEMS_DEFAULT_LIMIT = int(os.environ.get("SDI_ITEMS_DEFAULT_LIMIT", "100"))
SDI_ITEMS_MAX_LIMIT = int(os.environ.get("SDI_ITEMS_MAX_LIMIT", "10000"))

# Debian 12 ships GDAL 3.6; Django 6.1 would like 3.9 but works with it.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        # One line per client error (sdi/ogcapi/request_log.py); server errors keep their traceback.
        "drop_pygeoapi_client_errors": {"()": "sdi.ogcapi.request_log.DropPygeoapiClientErrors"},
        "describe_client_errors": {"()": "sdi.ogcapi.request_log.DescribeClientErrors"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SDI_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "pygeoapi": {"level": os.environ.get("SDI_PYGEOAPI_LOG_LEVEL", "WARNING")},
        # pygeoapi logs every 4xx it answers at ERROR with a traceback; Django's line for it is enough.
        "pygeoapi.api": {"filters": ["drop_pygeoapi_client_errors"]},
        # "Bad Request: /ogcapi/… (InvalidParameterValue: why)"
        "django.request": {"filters": ["describe_client_errors"]},
        # It reads every nested dict of the config as a possible {language: text} map and warns each time.
        "pygeoapi.l10n": {"level": "ERROR"},
        # pygeoapi 0.24 warns on every page requested without offset (int(None)); the default of 0 is right.
        "pygeoapi.api.itemtypes": {"level": "ERROR"},
    },
}
