"""Django settings for OPS Inspector.

Every deployment-specific value comes from the environment. Defaults are safe
for a first run on a laptop (SQLite, in-process tasks, DEBUG on); turning
DEBUG off without a real SECRET_KEY stops start-up.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from kernel.connections import parse_sources
from opsproject.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("OPS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", True)
_DEV_SECRET = "django-insecure-dev-only-do-not-deploy"
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET)
if not DEBUG and (
    SECRET_KEY == _DEV_SECRET or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is unset or weak: set SECRET_KEY to a random string of 50+ characters "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "inspector",
    "regression",
    "impact",  # the top of the app graph: nothing imports it
    "controlloop",
    "access",
    "otlp",  # OpenTelemetry's door in (docs/otlp.md): top of the app graph beside impact
    # The bundled reference pipeline, a plug-in: OPS_STAGE_HANDLERS below point at it.
    "reference",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "opsproject.middleware.RefuseNulInUrlMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "opsproject.urls"
WSGI_APPLICATION = "opsproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Production keeps each worker's connection for 60 s instead of opening
        # one per request (ingest over gunicorn: 38–54 traces/s against 25–35,
        # docs/deploy.md); DEBUG (laptop, tests) keeps Django's 0.
        conn_max_age=envint("DB_CONN_MAX_AGE", 0 if DEBUG else 60, minimum=0),
        # With persistent connections, a request first checks that its reused
        # connection survived (e.g. a database restart) and reconnects if not.
        conn_health_checks=envbool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the in-process executor writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding sends parameters apart from the SQL text, so large
    # JSON payloads are not quoted and escaped in Python on every insert.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = envbool("DB_SERVER_SIDE_BINDING", False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest storage needs collectstatic; only production runs it.
        "BACKEND": envstr(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

LOGIN_URL = "admin:login"

# --- Ingest limits -----------------------------------------------------------
OPS_INGEST_MAX_BYTES = envint("OPS_INGEST_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
OPS_PREVIEW_CHARS = envint("OPS_PREVIEW_CHARS", 2000, minimum=100)
# At most this many bytes of payload JSON in one ?include=payloads answer (inspector/trace_payloads.py).
OPS_TRACE_PAYLOADS_MAX_BYTES = envint("OPS_TRACE_PAYLOADS_MAX_BYTES", 4 * 1024 * 1024, minimum=1024)
# false: ingest commits do not wait for the WAL flush (PostgreSQL; still atomic,
# a crash may lose the last few hundred ms of acknowledged traces).
OPS_INGEST_SYNCHRONOUS_COMMIT = envbool("OPS_INGEST_SYNCHRONOUS_COMMIT", True)
# Traces in one batch ingest (a JSON array to POST /inspector/traces); the
# whole body still fits in OPS_INGEST_MAX_BYTES.
OPS_INGEST_BATCH_MAX = envint("OPS_INGEST_BATCH_MAX", 100, minimum=1)
# Ingest's in-process cache of registry look-ups (inspector/services/registry_cache.py):
# another process's new version or status change is seen within this; 0 switches it off.
# How long an API token's user, permissions and tenants are remembered (access/token_cache.py);
# any change to them is seen at once where the cache is shared. 0 turns the cache off.
OPS_TOKEN_CACHE_SECONDS = envint("OPS_TOKEN_CACHE_SECONDS", 60, minimum=0)
OPS_REGISTRY_CACHE_SECONDS = envint("OPS_REGISTRY_CACHE_SECONDS", 10, minimum=0)
# The price_table asset whose published version prices usage that carries no cost (docs/cost.md).
OPS_PRICE_TABLE = envstr("OPS_PRICE_TABLE", "model_prices")
# Django refuses larger bodies before the view runs; keep it just above the
# ingest limit so the view can answer 413 with a readable message.
DATA_UPLOAD_MAX_MEMORY_SIZE = OPS_INGEST_MAX_BYTES + 1024 * 1024
# Every other JSON body (docs/limits.md); all bodies: nesting depth, string and list lengths.
OPS_REQUEST_MAX_BYTES = envint("OPS_REQUEST_MAX_BYTES", 1024 * 1024, minimum=1024)
OPS_JSON_MAX_DEPTH = envint("OPS_JSON_MAX_DEPTH", 64, minimum=4)
OPS_JSON_MAX_STRING = envint("OPS_JSON_MAX_STRING", 1_000_000, minimum=1000)
OPS_JSON_MAX_ITEMS = envint("OPS_JSON_MAX_ITEMS", 10_000, minimum=100)
# DRF throttles per user (docs/limits.md); "none" switches one off.
OPS_THROTTLE_RATES = {
    "ingest": envstr("OPS_THROTTLE_INGEST", "12000/minute"),  # 200 traces/s per client
    "pipeline": envstr("OPS_THROTTLE_PIPELINE", "120/minute"),
}

# --- Pipeline -----------------------------------------------------------------
# Each stage's handler, by dotted path (see inspector/pipeline/base.py). Point a
# stage at "inspector.pipeline.http_handler.http_stage_handler" and give its URL
# in OPS_STAGE_HTTP_URLS to run it in another service.
OPS_STAGE_HANDLERS = {
    stage: envstr(f"OPS_HANDLER_{stage.upper()}", f"reference.stages.{stage}")
    for stage in ("route_plan", "validate", "execute", "compose", "present")
}
OPS_STAGE_HTTP_URLS = {
    stage: url
    for stage in ("route_plan", "validate", "execute", "compose", "present")
    if (url := envstr(f"OPS_HTTP_URL_{stage.upper()}", ""))
}
OPS_STAGE_HTTP_TIMEOUT_S = float(envint("OPS_STAGE_HTTP_TIMEOUT_MS", 10_000, minimum=1)) / 1000
OPS_STAGE_HTTP_TOKEN = envstr("OPS_STAGE_HTTP_TOKEN", "")
# The asset each singleton type resolves to when a stage does not name one.
OPS_DEFAULT_ASSETS = {
    "prompt": "route_rules",
    "resolver": "ci_aliases",
    "policy": "budget",
    "schema": "inventory_schema",
    "source": "inventory",
    "mapping": "answer_blocks",
    "screen": "answer_card",
}
# Ask the control loop after each stage (replans); off runs every route straight through.
OPS_CONTROL_LOOP = envbool("OPS_CONTROL_LOOP", True)
# The control loop the runner asks (a seam: inspector never imports controlloop).
OPS_REPLAN_LOOP = "controlloop.loop.ControlLoop"
# Compute the base and target versions' impact figures in parallel (PostgreSQL).
OPS_IMPACT_PARALLEL = envbool("OPS_IMPACT_PARALLEL", True)
OPS_INVENTORY_PATH = Path(envstr("OPS_INVENTORY_PATH", str(VAR_DIR / "inventory.sqlite3")))
# Named data connections that source assets refer to (docs/security.md): operator
# configuration only; a tenant's spec names a connection, never a URL or a file.
OPS_SOURCES = parse_sources(envstr("OPS_SOURCES", ""), bundled_inventory=OPS_INVENTORY_PATH)

# OTLP ingest (docs/otlp.md): a trace whose root span never comes is assembled from its spans once none
# has come for this long; buffered spans are forgotten after OPS_OTLP_BUFFER_HOURS.
OPS_OTLP_QUIET_SECONDS = envint("OPS_OTLP_QUIET_SECONDS", 30, minimum=1)
OPS_OTLP_BUFFER_HOURS = envint("OPS_OTLP_BUFFER_HOURS", 24, minimum=1)
OPS_OTLP_SWEEP_BATCH = envint("OPS_OTLP_SWEEP_BATCH", 500, minimum=1)

# --- Cache (throttle counters) -------------------------------------------------
# One process: local memory. Several web processes: CACHE_URL=redis://… so the
# rate limits count across them.
_cache_url = envstr("CACHE_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
          if _cache_url.startswith(("redis://", "rediss://"))
          else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST framework ----------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: anonymous API calls then get 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.token_cache.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["inspector.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "inspector.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "inspector.schema.AutoSchema",
    "EXCEPTION_HANDLER": "inspector.api_errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["inspector.parsers.LimitedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["inspector.throttles.WriteRateThrottle"],
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OPS Inspector API",
    "DESCRIPTION": "Inspect, replay and regression-test a staged orchestration pipeline.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1 because the ingest body schema comes from pydantic (JSON Schema 2020-12).
    "OAS_VERSION": "3.1.0",
    "ENUM_NAME_OVERRIDES": {
        "TraceStatusEnum": "inspector.models.traces.TraceStatus",
        "StageStatusEnum": "inspector.models.traces.StageStatus",
        "RouteEnum": "inspector.models.traces.Route",
        "AssetVersionStatusEnum": "inspector.models.assets.AssetVersion.Status",
        "TriggerTypeEnum": "controlloop.contracts.TRIGGER_TYPES",
        "WorkStatusEnum": "regression.models.WorkStatus",
        "StageEnum": "inspector.models.traces.StageChoices",
        "SeverityEnum": "controlloop.contracts.SEVERITIES",
        "DecisionEnum": "controlloop.contracts.DECISIONS",
    },
    # The schema describes no data, but the API is private: ask for a login.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "")
# No broker configured means "zero-setup": tasks run in-process, eagerly.
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_STORE_EAGER_RESULT = envbool("CELERY_TASK_STORE_EAGER_RESULT", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The reaper (regression.services.work.work_reap) runs this often.
OPS_REAPER_INTERVAL_S = envint("OPS_REAPER_INTERVAL_S", 15, minimum=5)
# Claimed work (analyses, golden runs, override tests): the worker refreshes the
# row's heartbeat every OPS_HEARTBEAT_INTERVAL_S; the reaper takes back a claim
# whose heartbeat is older than OPS_CLAIM_STALE_AFTER_S (worker killed, node
# lost). Recovery starts at most OPS_CLAIM_STALE_AFTER_S + OPS_REAPER_INTERVAL_S
# (45 s) after a kill (docs/reliability.md).
OPS_HEARTBEAT_INTERVAL_S = envint("OPS_HEARTBEAT_INTERVAL_S", 10, minimum=1)
OPS_CLAIM_STALE_AFTER_S = envint("OPS_CLAIM_STALE_AFTER_S", 30, minimum=2)
if OPS_CLAIM_STALE_AFTER_S < 2 * OPS_HEARTBEAT_INTERVAL_S:
    raise ImproperlyConfigured("OPS_CLAIM_STALE_AFTER_S must be at least twice OPS_HEARTBEAT_INTERVAL_S, "
                               "or a live worker's claim is taken over after one late heartbeat.")
# One beat schedule for the whole project; later issues add entries, each with
# an ``expires`` so a backlog never runs stale jobs.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "golden-queries-nightly": {
        "task": "regression.tasks.run_enabled_golden_queries",
        "schedule": crontab(hour=envint("OPS_GOLDEN_HOUR_UTC", 2, minimum=0), minute=0),
        "options": {"expires": 3600},
    },
    "reap-stuck-analyses": {
        "task": "regression.tasks.reap_stuck_analyses",
        "schedule": float(OPS_REAPER_INTERVAL_S),
        "options": {"expires": OPS_REAPER_INTERVAL_S * 0.8},
    },
    # Retention (docs/reliability.md): hourly, each run bounded by OPS_RETENTION_MAX_SECONDS.
    # Impact roll-ups (docs/impact.md): closed days are summed once, a pass at most OPS_ROLLUP_MAX_SECONDS.
    "otlp-sweep": {
        "task": "otlp.tasks.sweep_buffered_spans",
        "schedule": 15.0,
        "options": {"expires": 12},
    },
    "rollup-asset-usage": {
        "task": "inspector.tasks.rollup_asset_usage",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 600},
    },
    "purge-old-traces": {
        "task": "inspector.tasks.purge_old_traces",
        "schedule": crontab(minute=envint("OPS_RETENTION_MINUTE", 17, minimum=0)),
        "options": {"expires": 1800},
    },
}
# Claims of a work item (analysis, golden run, override test) before a lost worker fails it.
OPS_ANALYSIS_MAX_ATTEMPTS = envint("OPS_ANALYSIS_MAX_ATTEMPTS", 3, minimum=1)
# Work still pending this long after its message went out is sent again by the
# reaper (the message may be lost); work never sent is sent on the next run.
OPS_PENDING_REQUEUE_AFTER_S = envint("OPS_PENDING_REQUEUE_AFTER_S", 300, minimum=30)
# A broker that is down or hung must not hold a web request (kombu's default
# waits for ever on a broker that accepts and never answers): bounded connect
# and read timeouts, one publish retry. A failed enqueue leaves the work
# pending for the reaper. Measured (docs/reliability.md): the analyze request
# answers 202 in ~0.2 s when the broker refuses connections, ~4 s when it hangs.
OPS_BROKER_TIMEOUT_S = envint("OPS_BROKER_TIMEOUT_MS", 2000, minimum=100) / 1000
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": OPS_BROKER_TIMEOUT_S,
    "socket_timeout": OPS_BROKER_TIMEOUT_S,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

# --- Retention -----------------------------------------------------------------
# Traces that started more than OPS_RETENTION_DAYS ago are deleted by the beat
# job, OPS_RETENTION_BATCH at a time (one transaction each); baselines and
# traces that analyses, runs or override tests refer to are kept. 0 disables.
OPS_RETENTION_DAYS = envint("OPS_RETENTION_DAYS", 90, minimum=0)
# Daily roll-ups for impact reports: a UTC day is rolled this long after it
# closed; OPS_ROLLUP_ENABLED=false makes reports read every usage row (exact
# percentiles, slow at millions of traces).
OPS_ROLLUP_ENABLED = envbool("OPS_ROLLUP_ENABLED", True)
OPS_ROLLUP_LAG_MINUTES = envint("OPS_ROLLUP_LAG_MINUTES", 60, minimum=0)
OPS_ROLLUP_MAX_SECONDS = envint("OPS_ROLLUP_MAX_SECONDS", 240, minimum=1)
OPS_RETENTION_BATCH = envint("OPS_RETENTION_BATCH", 500, minimum=1)
# One beat run stops starting batches after this; the next run continues.
OPS_RETENTION_MAX_SECONDS = envint("OPS_RETENTION_MAX_SECONDS", 180, minimum=1)

# --- Security headers (production) -------------------------------------------
if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", True)
    # HTTPS by default in production; behind a TLS-terminating proxy set
    # SECURE_PROXY_SSL_HEADER_ENABLED=true so redirects do not loop.
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    # Probes ask the process over plain HTTP; a redirect would count as healthy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    # Strict defaults (check --deploy clean); turn off if subdomains are not all HTTPS.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    if envbool("SECURE_PROXY_SSL_HEADER_ENABLED", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # Eager tasks log every success at INFO; keep the console for what matters.
    # (Not CELERY_LOG_LEVEL: Celery itself sets that variable, to a number.)
    "loggers": {"celery": {"level": envstr("OPS_CELERY_LOG_LEVEL", "WARNING")}},
}

# The covering index's INCLUDE columns only exist on PostgreSQL; SQLite (the
# demo database) simply gets a plain index, which is fine.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
