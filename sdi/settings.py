"""Settings, 12-factor: everything that differs between machines comes from the environment.

DATABASE_URL            postgis://user:pass@host:port/db (default: the project-local cluster of deploy/postgis.sh,
                        on SDI_PG_PORT, default 54329)
SDI_SECRET_KEY          Django secret key. REQUIRED unless SDI_DEBUG=1: without it (or with a published example
                        key) the settings refuse to load. `make run`/`make test` generate one per checkout in
                        .sdi/secret_key (mode 0600, git-ignored) and export it.
SDI_DEBUG               1 to enable Django debug pages (and a fixed, public dev key when SDI_SECRET_KEY is unset)
SDI_LOGIN_FAILURE_LIMIT failed sign-ins per account and address before that pair is locked (default 5)
SDI_LOGIN_ADDRESS_FAILURE_LIMIT  failed sign-ins per address, over all accounts, before it is locked (default 30)
SDI_LOGIN_COOLOFF_MINUTES        how long a lock lasts after the last counted failure (default 15)
SDI_LOGIN_CONCURRENCY   password checks running at once over all workers; more sign-ins get 503 (default 1)
SDI_TRUSTED_PROXIES     comma-separated addresses of reverse proxies whose X-Forwarded-For is believed (default
                        none: the peer address is the client). Behind nginx on this machine: 127.0.0.1
SDI_ALLOWED_HOSTS       comma-separated host names (default: localhost,127.0.0.1,[::1])
SDI_BASE_URL            public base URL, e.g. https://sdi.cantho.gov.vn (default: taken from each request)
SDI_CORS_ALLOWED_ORIGINS comma-separated origins allowed to call /ogcapi/ from a browser, or * (default: *)
SDI_ITEMS_DEFAULT_LIMIT / SDI_ITEMS_MAX_LIMIT   page size of /items (default 100 / 10000)
SDI_EXACT_COUNT_MAX_ROWS a filtered /items page counts numberMatched only when the planner expects at most this
                        many matches (default 50000; resulttype=hits always counts)
SDI_STATEMENT_TIMEOUT_MS every OGC API query is cancelled after this (default 30000)
SDI_PROVIDER_POOL_SIZE  database connections per server process for the OGC API (default 4)
SDI_UPLOAD_DIR          where uploads are kept until imported (default .sdi/uploads)
SDI_MAX_UPLOAD_MB / SDI_MAX_UNCOMPRESSED_MB      upload size and unpacked-archive size limits (512 / 4096)
SDI_DISTRICTS_DATASET   dataset used to compute which districts a dataset covers (default cantho-districts)
SDI_WORKER_CONCURRENCY  jobs the task-queue worker runs at once: imports and harvests (default 2)
SDI_WORKER_HEARTBEAT_SECONDS  how often the task-queue worker writes its heartbeat (default 5; /readyz calls a worker
                        dead after three missed beats)
SDI_SOURCE_KEY          Fernet key that encrypts the passwords of sector databases registered as sources (default:
                        derived from SDI_SECRET_KEY; set it in production, so rotating the secret key keeps them)
SDI_SOURCE_CONNECT_TIMEOUT / SDI_SOURCE_STATEMENT_TIMEOUT  seconds to reach a sector database (10) and for any one
                        statement on it (600)
SDI_LEADERS_PANELS      the panels of the leaders' page /lanh-dao (default config/leaders.yml)
SDI_SAMPLE_SECTOR_DB    the sample sector database `make run` creates beside the SDI's (default sdi_sector_ninhkieu)
SDI_SAMPLES_DIR         where `manage.py sample_data` writes the synthetic sample files (default .sdi/samples)
SDI_LOG_LEVEL           INFO by default; SDI_PYGEOAPI_LOG_LEVEL for pygeoapi's loggers (WARNING by default)

Read by `manage.py ensure_admin` only, so that no server process keeps an admin password in its settings:
SDI_ADMIN_USER, SDI_ADMIN_PASSWORD, SDI_ADMIN_EMAIL, SDI_ADMIN_PASSWORD_FILE.
"""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from layers.serving.options import ServingOptions

BASE_DIR = Path(__file__).resolve().parent.parent


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = os.environ.get("SDI_DEBUG", "0") == "1"

# The key that signs sessions and CSRF tokens. Anyone who knows it can forge them, so a key that is written down in
# public (the dev key here, the placeholder of deploy/systemd/env.example) is refused unless debug is on, and
# `manage.py check --deploy` fails on it (sdi.security.checks).
DEV_SECRET_KEY = "dev-only-insecure-key-set-SDI_SECRET_KEY-in-production"
PUBLIC_SECRET_KEYS = frozenset({DEV_SECRET_KEY, "CHANGE-ME"})
SECRET_KEY = os.environ.get("SDI_SECRET_KEY", "").strip() or (DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY in PUBLIC_SECRET_KEYS):
    raise ImproperlyConfigured(
        "SDI_SECRET_KEY is not set, or is a published example key: refusing to start with debug off. Set it to a "
        "long random value in the service's environment (/etc/cantho-sdi/env), e.g. from python3 -c \"import "
        "secrets; print(secrets.token_urlsafe(50))\"; `make run` and `make test` generate one in .sdi/secret_key.")
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
# An unreachable database host fails a request (503, sdi.middleware) in seconds rather than hang it.
DATABASES["default"]["OPTIONS"]["connect_timeout"] = 10
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
    "axes",
    "procrastinate.contrib.django",
    "sdi.security",
    "layers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "sdi.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sdi.security.login_slots.LoginBusyMiddleware",
    # Last, as its documentation asks: turns a locked-out admin sign-in into a 429.
    "axes.middleware.AxesMiddleware",
]

# --- Sign-in limits (django-axes; docs/security.md) ---
# AxesStandaloneBackend refuses a locked account+address before any password is hashed; the model backend hashes
# passwords inside one of SDI_LOGIN_CONCURRENCY slots shared by all workers (sdi.security.login_slots).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "sdi.security.login_slots.BoundedModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("SDI_LOGIN_FAILURE_LIMIT", "5"))
SDI_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("SDI_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SDI_LOGIN_COOLOFF_MINUTES", "15")))
# Per account+address, so that an attacker cannot lock a user out from everywhere; the per-address limit over
# all accounts is added by our handler.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "sdi.security.lockout.AccountAndAddressHandler"
AXES_LOCKOUT_CALLABLE = "sdi.security.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "sdi.security.client_ip.client_ip"
SDI_TRUSTED_PROXIES = frozenset(env_list("SDI_TRUSTED_PROXIES", ""))
# Tries made while locked are refused without being counted: they cost one query, no hash and no write, and
# cannot push a shared address (an office behind NAT) over its limit.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# No log of successful sign-ins: axes would create a session row for every token request.
AXES_DISABLE_ACCESS_LOG = True
SDI_LOGIN_CONCURRENCY = max(1, int(os.environ.get("SDI_LOGIN_CONCURRENCY", "1")))

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
SDI_LEADERS_PANELS = Path(os.environ.get("SDI_LEADERS_PANELS", SDI_CONFIG_DIR / "leaders.yml"))
SDI_DATA_SCHEMA = "sdi_data"
SDI_STAGING_SCHEMA = "sdi_staging"
SDI_DISTRICTS_DATASET = os.environ.get("SDI_DISTRICTS_DATASET", "cantho-districts")
SDI_UPLOAD_DIR = Path(os.environ.get("SDI_UPLOAD_DIR", BASE_DIR / ".sdi" / "uploads"))
SDI_SAMPLES_DIR = Path(os.environ.get("SDI_SAMPLES_DIR", BASE_DIR / ".sdi" / "samples"))
SDI_MAX_UPLOAD_BYTES = int(os.environ.get("SDI_MAX_UPLOAD_MB", "512")) * 1024 * 1024
SDI_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("SDI_MAX_UNCOMPRESSED_MB", "4096")) * 1024 * 1024
SDI_ITEMS_DEFAULT_LIMIT = int(os.environ.get("SDI_ITEMS_DEFAULT_LIMIT", "100"))
SDI_ITEMS_MAX_LIMIT = int(os.environ.get("SDI_ITEMS_MAX_LIMIT", "10000"))
SDI_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("SDI_WORKER_HEARTBEAT_SECONDS", "5"))
SDI_WORKER_CONCURRENCY = int(os.environ.get("SDI_WORKER_CONCURRENCY", "2"))

# The task queue (procrastinate; layers/jobs/). Its tasks live in one module, not in an autodiscovered `tasks.py`.
# The worker (manage.py run_worker) is ours around procrastinate's, for the reasons in layers/jobs/worker.py.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = None
PROCRASTINATE_IMPORT_PATHS = ["layers.jobs.tasks"]
PROCRASTINATE_WORKER_DEFAULTS = {
    # procrastinate's own worker heartbeat, from which stalled jobs are found (layers.jobs.tasks.sweep)
    "update_heartbeat_interval": max(1.0, SDI_WORKER_HEARTBEAT_SECONDS),
    "stalled_worker_timeout": max(3.0, 3 * SDI_WORKER_HEARTBEAT_SECONDS),
    "fetch_job_polling_interval": 10.0,  # a fallback: LISTEN/NOTIFY wakes the worker at once
}

# Sources kept in sync (layers/sources/): the key that encrypts sector passwords, and timeouts on a sector database.
SDI_SOURCE_KEY = os.environ.get("SDI_SOURCE_KEY", "").strip()
SDI_SOURCE_CONNECT_TIMEOUT = int(os.environ.get("SDI_SOURCE_CONNECT_TIMEOUT", "10"))
SDI_SAMPLE_SECTOR_DB = os.environ.get("SDI_SAMPLE_SECTOR_DB", "sdi_sector_ninhkieu")  # manage.py sample_sector
SDI_SOURCE_STATEMENT_TIMEOUT = int(os.environ.get("SDI_SOURCE_STATEMENT_TIMEOUT", "600"))
# The OGC API provider's tuning; it reads no environment itself (sdi/ogcapi/config.py hands it these).
SDI_SERVING = ServingOptions(
    exact_count_max_rows=int(os.environ.get("SDI_EXACT_COUNT_MAX_ROWS", "50000")),
    statement_timeout_ms=int(os.environ.get("SDI_STATEMENT_TIMEOUT_MS", "30000")),
    pool_size=int(os.environ.get("SDI_PROVIDER_POOL_SIZE", "4")),
)

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
    # Quieting pygeoapi is one of the seams of sdi/ogcapi/adapter.py (seam 2); the levels must be set here,
    # before the first request.
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
        # django-axes announces its configuration at every start of every process (manage.py included).
        "axes.apps": {"level": "WARNING"},
        # procrastinate announces its blueprint and its periodic tasks in every process, and each minute's tick.
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
    },
}
