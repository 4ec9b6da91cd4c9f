"""Settings for the contest portal: one module, read from the environment.

With no environment at all the portal runs on the embedded default: a SQLite file,
a local-memory cache and DEBUG on. DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS switch it to production services; see docs/operations.md and
.env.prod.example for every variable.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for developers; real deployments set the environment.
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Only the embedded default may run with a key anyone can read in the source.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off: set it to a long random value."
        )
    SECRET_KEY = "django-insecure-embedded-default-only"  # noqa: S105 (DEBUG only)

# Production must say what it serves and where its data lives: falling back to localhost
# or to a SQLite file inside a container would fail late, or lose data quietly.
if not DEBUG:
    required = ("DJANGO_ALLOWED_HOSTS", "DATABASE_URL")
    missing = [name for name in required if not env(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} must be set when DJANGO_DEBUG is off (see .env.prod.example)."
        )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "csp",
    "contests",
]

MIDDLEWARE = [
    "portal.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The staff's language (docs/i18n.md): after the session, which it may read.
    "portal.i18n.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session given a TOTP code (docs/security.md)?
    "django_otp.middleware.OTPMiddleware",
    "portal.two_factor.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.headers.PermissionsPolicyMiddleware",
    # Who made each change the history records (simple_history's HistoricalRecords).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
# Production may move the admin away from the address every scanner tries first.
ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database -------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue for the lock instead of failing with "database is locked":
        # every transaction takes the write lock when it begins (see docs/design.md).
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache ------------------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # A Redis outage costs speed, never an answer: the draw falls back to the
                # database when the cache says nothing.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT", default=0.5),
                # Data only: whoever can write to Redis must not be able to run code here,
                # as unpickling what it wrote would let them.
                "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            },
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="portal"),
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "portal.cache"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "portal",
        }
    }

# The play path (docs/design.md, "What the play path keeps") ---------------------------

# Contest and token changes reach every process's memory within this many seconds.
PLAY_MEMORY_MAX_AGE = env.float("PLAY_MEMORY_MAX_AGE", default=1.0)
# Play counts, tokens' last use and the play log are written in batches this often (seconds);
# 0 writes them only on demand and at exit (the test suite).
BUFFER_FLUSH_INTERVAL = env.float("BUFFER_FLUSH_INTERVAL", default=1.0)

# Who judges whether a moment is due when a play claims it: "database" (on PostgreSQL, the
# claim's transaction time, one clock for every replica) or "process" (the play's own clock,
# which tests move in time). SQLite always uses the process clock.
AWARD_CLOCK = env.str("AWARD_CLOCK", default="database")
if AWARD_CLOCK not in ("database", "process"):
    raise ImproperlyConfigured("AWARD_CLOCK must be 'database' or 'process'.")

# Auth -------------------------------------------------------------------------------

# django-axes first: it refuses a locked-out username or address before any password is
# checked, so the right password on the sixth try is refused too.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The staff portal signs in with Django's own views; the admin keeps its own login page.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contests:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Staff forms are rendered by django-crispy-forms with the Bootstrap 5 template pack.
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Internationalisation (docs/i18n.md; portal/language_settings.py) -----------------------
# Staff who chose none: Italian in production (.env.prod.example), English embedded.
LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", default="en")
from portal.language_settings import *  # noqa: E402, F403

if LANGUAGE_CODE not in dict(LANGUAGES):  # noqa: F405
    raise ImproperlyConfigured(f"DJANGO_LANGUAGE_CODE must be one of it, en: {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = env.bool("DJANGO_LANGUAGE_COOKIE_SECURE", default=not DEBUG)

# A contest's days are local to its own zone; this is the default zone for new ones.
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/Rome")
USE_I18N = True
USE_TZ = True

# Static files ------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
# Tests and runserver find files in the app and project folders without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Security (production behind Nginx) ---------------------------------------------------
# docs/security.md says what each of these guards against.

# Nginx overwrites X-Forwarded-Proto, so Django may trust it to know a request was HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The health check comes from inside the network over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
# Features no page of the portal uses, refused to every page (portal/headers.py).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)

# The client's address, for lockouts and the sign-in history. Behind Nginx, REMOTE_ADDR
# is Nginx's own address; Nginx overwrites X-Forwarded-For with the client's, and only
# Nginx reaches gunicorn (portal/client_address.py). Off by default on the embedded
# default, where anyone could send that header to runserver.
TRUST_X_FORWARDED_FOR = env.bool("DJANGO_TRUST_X_FORWARDED_FOR", default=not DEBUG)

# Winning moments that have not passed yet are shown to no one, superusers included,
# unless this allows it (to superusers only); never with DEBUG off.
SHOW_FUTURE_MOMENTS = env.bool("DJANGO_SHOW_FUTURE_MOMENTS", default=DEBUG)
if SHOW_FUTURE_MOMENTS and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SHOW_FUTURE_MOMENTS is refused when DJANGO_DEBUG is off: in production "
        "nobody may see a winning moment before it passes."
    )

# Two-factor sign-in (django-otp, TOTP). Whom it is required of:
#   "staff"    superusers and members of Contest staff (the default with DJANGO_DEBUG off)
#   "everyone" every signed-in account
#   "off"      nobody (the default of the embedded default, bin/dev)
OTP_REQUIRED_FOR = env("DJANGO_OTP_REQUIRED_FOR", default="off" if DEBUG else "staff")
if OTP_REQUIRED_FOR not in ("staff", "everyone", "off"):
    raise ImproperlyConfigured(
        f"DJANGO_OTP_REQUIRED_FOR must be staff, everyone or off, not {OTP_REQUIRED_FOR!r}."
    )
OTP_TOTP_ISSUER = env("DJANGO_OTP_ISSUER", default="Contest Portal")

# Lockouts, the change history and the Content-Security-Policy.
from portal.protection_settings import *  # noqa: E402, F403

# Logging --------------------------------------------------------------------------------

LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Supplies request_id outside requests too, so logging never fails (the seed's bug).
        "request_context": {"()": "portal.request_id.RequestContextFilter"},
    },
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_context"],
            "formatter": "line",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django logs every 4xx on its own; our play log line already says it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING" if not DEBUG else "INFO"},
        # django-axes' own failure and lockout lines (WARNING) stay, beside portal.security's;
        # its INFO lines (a reset after every sign-in) say nothing.
        "axes": {"level": "WARNING"},
    },
}

# Operations (issue 16) ------------------------------------------------------------------
# Jobs, metrics, the log format, Sentry and the build's identity, in one block:
# docs/jobs.md, docs/monitoring.md, docs/backups.md.

from portal import logs as _logs  # noqa: E402

# Logs: text (the default) or one JSON object per line; in UTC either way.
LOG_FORMAT = _logs.checked(env("DJANGO_LOG_FORMAT", default="text"))
LOGGING["formatters"]["line"] = _logs.formatter(LOG_FORMAT)
# Celery logs through these handlers too (CELERY_WORKER_HIJACK_ROOT_LOGGER below).
LOGGING["loggers"]["celery"] = {"level": "INFO"}

# The build: Dockerfile.prod bakes the git commit into the image; /healthz?verbose shows
# it (and the version) to staff.
PORTAL_COMMIT = env("PORTAL_COMMIT", default="unknown")
PORTAL_VERSION = env("PORTAL_VERSION", default="0.1.0")

# Errors to Sentry, only when SENTRY_DSN is set.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=PORTAL_COMMIT,
        # Errors only: no tracing of the play path, no personal data (player ids, IPs).
        traces_sample_rate=0.0,
        send_default_pii=False,
    )

# Health: readiness, like liveness, answers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^readyz$"]

# Metrics: GET /metrics is answered before anything else (no host check, no redirect:
# Prometheus scrapes replicas by address) and refused through Nginx (portal/metrics.py).
MIDDLEWARE = ["portal.metrics.MetricsMiddleware", *MIDDLEWARE]

# Jobs: Celery on the Redis broker. Without CELERY_BROKER_URL (the embedded default, the
# tests) a job runs in the process that asks for it; bin/dev also sets JOBS_IN_PROCESS,
# which runs the schedule below in a thread of its web process (portal/celery_app.py).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
JOBS_IN_PROCESS = env.bool("JOBS_IN_PROCESS", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged when it ends, so a worker killed mid-job leaves it for another;
# every job can run again safely.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="portal")
# One scheduler runs the schedule: RedBeat holds a lock in Redis, renewed every tick; a
# second scheduler waits for it and takes over within CELERY_REDBEAT_LOCK_TIMEOUT seconds
# of the first one's death. The schedule's state (last runs) lives in Redis too.
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
CELERY_REDBEAT_KEY_PREFIX = env("CELERY_REDBEAT_KEY_PREFIX", default="portal:beat:")
CELERY_REDBEAT_LOCK_TIMEOUT = 30
CELERY_BEAT_MAX_LOOP_INTERVAL = 5

# The schedule, in UTC: a cron line, or a number of seconds between runs. Where a contest's
# zone matters the job itself works in it (contests/jobs.py). Keys are the jobs' names.
JOB_SCHEDULE = {
    # Today and tomorrow of every active contest, in its zone: tomorrow's plan and its
    # commitment are out about a day before tomorrow begins.
    "plan_days": "7 * * * *",
    # portal_moments_unclaimed and portal_contest_local_hour.
    "refresh_metrics": "* * * * *",
    # Every stored plan against its seal.
    "verify_plans": "17 3 * * *",
    # Player ids of contests closed more than PLAYER_DATA_RETENTION_DAYS ago.
    "purge_player_data": "37 3 * * *",
    "deliver_webhooks": env.float("WEBHOOK_DELIVERY_EVERY_SECONDS", default=5.0),  # api.md
}
# Days plan_days plans from today, in each contest's zone.
JOB_PLAN_DAYS = env.int("JOB_PLAN_DAYS", default=2)
# Days after a contest's last day before its players' ids are blanked.
PLAYER_DATA_RETENTION_DAYS = env.int("PLAYER_DATA_RETENTION_DAYS", default=90)
# Where the job worker serves its own /metrics (Prometheus scrapes it); unset: nowhere.
JOB_METRICS_PORT = env.int("JOB_METRICS_PORT", default=0)
from portal.settings_evidence import *  # noqa: E402, F403 (evidence, issue 18: TSA_*, PERIZIA_*)
