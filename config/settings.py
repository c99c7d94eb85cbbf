"""canbao settings: one module, driven by environment variables.

With no environment at all the portal runs for a newcomer: SQLite, Celery tasks run eagerly
in-process, DEBUG on. Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
REDIS_URL (see docker-compose.yml); with DEBUG off the secure defaults below apply.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=not env.bool("PRODUCTION", default=False))

_DEV_SECRET = "canbao-dev-only-not-secret"  # noqa: S105 - used only while DEBUG is on
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "core",
    "enrollment",
    "subsidies",
    "collections_app",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view (and before CSRF's look at the form): no field may hold a NUL.
    "config.requests.RejectControlCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that lock-outs see the authenticated request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a demo seed or an eager import writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Celery / cache -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a crashed worker's task is redelivered, never half-acknowledged
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # …also when the worker process is killed outright (SIGKILL, OOM)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="canbao")
# Redis keeps a message taken by a worker that then died (kill -9, a host lost) for this long
# before another worker gets it. Kept at an hour: with late acks a message reserved or running
# longer than this is handed to a second worker while the first still works on it. Nothing
# waits for it: an interrupted import is shown 中断 after CANBAO_IMPORT_INTERRUPTED_AFTER and
# resumed as a new run (the old message, when it comes back, is stale and does nothing), and
# the scheduled jobs are re-run by their own schedule.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
# A queued or running tax import with no heartbeat for this many seconds is interrupted
# (its worker is gone) and may be resumed. It beats every sixth of it (collections_app/tax_import).
CANBAO_IMPORT_INTERRUPTED_AFTER = env.int("CANBAO_IMPORT_INTERRUPTED_AFTER", default=120)
# Today's dashboard figures (reporting/current.py), in seconds: how old a county's and a
# township's/village's figures may be before a page refreshes them (the beat job refreshes every
# county each minute), how often everything is recomputed as a safety net, and how far before
# the last refresh a change is looked for (history is stamped at the write, not the commit).
CANBAO_FIGURES_MAX_AGE = env.int("CANBAO_FIGURES_MAX_AGE", default=60)
CANBAO_FIGURES_LOCAL_MAX_AGE = env.int("CANBAO_FIGURES_LOCAL_MAX_AGE", default=0)
CANBAO_FIGURES_FULL_EVERY = env.int("CANBAO_FIGURES_FULL_EVERY", default=1800)
CANBAO_FIGURES_COMMIT_MARGIN = env.int("CANBAO_FIGURES_COMMIT_MARGIN", default=30)

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "enrollment.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lock an account+address out after 5 failures for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Sessions expire after 30 minutes without activity.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the few fetch() calls read it to send X-CSRFToken

# --- Security headers -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script anywhere: every script is a static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Locale -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

# --- Static and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True  # tests and runserver serve static without collectstatic
# Upload limits (spreadsheets, photos, evidence). Larger files are refused with a clear message.
CANBAO_MAX_UPLOAD_BYTES = env.int("CANBAO_MAX_UPLOAD_BYTES", default=80 * 1024 * 1024)
CANBAO_MAX_IMPORT_ROWS = env.int("CANBAO_MAX_IMPORT_ROWS", default=1_000_000)
# A sheet's extent (min to max cell address, what python-calamine allocates at ~32 bytes a cell):
# no county sheet is wider than ~40 columns (a filing has 10-15, the roster 11), and 20 million
# cells is 1,000,000 rows x 20 columns (~640 MB in calamine). Wider or larger is refused unread.
CANBAO_MAX_IMPORT_COLUMNS = env.int("CANBAO_MAX_IMPORT_COLUMNS", default=256)
CANBAO_MAX_IMPORT_CELLS = env.int("CANBAO_MAX_IMPORT_CELLS", default=20_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # Refuses a token older than its user's last password change or of a locked-out user.
        "core.tokens.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # Leadership reads only; department staff write only their identity lists.
        "core.access.ReadOnlyRolesPermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    # Limits a county's real load never reaches (per minute):
    # * anon, per client address: only the public contribution calculator (quote, quote-options)
    #   answers anonymous calls; a resident's use is one options call and a quote per change of
    #   the form. 120 is one call every half second from one address, all minute long.
    # * user, per account: a county's ~40 township clerks and ~400 collectors share one NAT address
    #   in the season's peak, so the limit is per account, never per address. The busiest account
    #   is the tax office's: its import polls progress once a second (60) while its dashboards
    #   refresh a dozen figures; a collector's busiest page makes a few calls a second. 2000 is
    #   thirty times that.
    # * token_failure, per client address: wrong API tokens. A program whose token was revoked
    #   fails on each call until someone replaces the key; 30 wrong tokens a minute is far more
    #   than such a script's retries and far fewer than guessing needs.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "2000/min", "token_failure": "30/min"},
    # The county's reverse proxy appends the client's address to X-Forwarded-For; throttles count
    # per that address (the last entry, which a client cannot forge), not per the proxy's.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "canbao 参保 API",
    "DESCRIPTION": "城乡居民基本医疗保险征缴 — households, persons, enrollments, receipts, imports, reports.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" field with different choices: name each set once.
    "ENUM_NAME_OVERRIDES": {
        "EnrollmentStatusEnum": "enrollment.choices.EnrollmentStatus",
        "ReceiptStatusEnum": "collections_app.choices.ReceiptStatus",
        "DeclarationStatusEnum": "collections_app.choices.DeclarationStatus",
        "RefundStatusEnum": "collections_app.choices.RefundStatus",
        "DeclarationLineResultEnum": "collections_app.choices.LineResult",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Filter forms: an unselected choice reads “全部” (all), not “---------”.
FILTERS_EMPTY_CHOICE_LABEL = "全部"
