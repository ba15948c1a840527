"""Provena's settings, read from the environment (see README, "Settings")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from governance.env import env_bool, env_float, env_int, env_list, env_paths, env_str
from governance.remediation.policy import DEFAULT_DUE_DAYS, parse_due_days
from inventory.master_rule import DEFAULT_RULE as DEFAULT_MASTER_RULE
from inventory.master_rule import validate_rule

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("PROVENA_DEBUG", False)
# Without a key, commands that sign nothing (makemigrations, collectstatic, lint) still run;
# the web server and the Celery workers refuse to start (governance.checks).
SECRET_KEY = env_str("SECRET_KEY") or (
    "provena-development-only-key-do-not-use-in-production" if DEBUG else ""
)
PROVENA_SECRET_KEY_MISSING = not SECRET_KEY

ALLOWED_HOSTS = env_list("PROVENA_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("PROVENA_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # login throttling (docs/security.md)
    "csp",
    "governance",
    "inventory",
    "reports",
    "governance.remediation",
    "governance.privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body: an oversized request is refused unread (413).
    "governance.middleware.RequestSizeLimitMiddleware",
    "governance.middleware.NulCharacterMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (or the switch's cookie); a signed-in user's choice overrides it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "governance.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

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
                "governance.context_processors.navigation",
            ],
            # isolate and visible: every page shows user-supplied names through them.
            "builtins": ["governance.templatetags.names"],
        },
    },
]

# SQLite is the embedded default; PostgreSQL (DATABASE_URL=postgres://...) is the production path.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'provena.sqlite3'}",
        conn_max_age=env_int("PROVENA_DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web pages read while a scan writes; IMMEDIATE avoids lock upgrades failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "governance.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# English and Traditional Chinese (Hong Kong usage): docs/i18n.md. The catalogues are
# locale/*/LC_MESSAGES/django.po, compiled by make install (compilemessages).
LANGUAGES = [("en-gb", "English"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "provena_language"
TIME_ZONE = env_str("PROVENA_TIME_ZONE", "Asia/Hong_Kong")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: DRF takes the first class's challenge, so anonymous API calls get
    # 401 with "WWW-Authenticate: Token" rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["governance.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # "?format=" is the copies filter on image format (PNG, JPEG), not renderer selection.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("PROVENA_API_RATE", "2000/hour")},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Provena API",
    "DESCRIPTION": "Inventory, duplicates, privacy review and audit reports for image archives.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models call their choices "outcome" or "kind"; name each so the schema is stable.
    "ENUM_NAME_OVERRIDES": {
        "AuditOutcomeEnum": "governance.models.AuditEvent.Outcome",
        "PrivacyDecisionOutcomeEnum": "governance.privacy.models.PrivacyDecision.Outcome",
        "ReportKindEnum": "reports.models.Report.Kind",
        "AccessRequestReplyKindEnum": "governance.privacy.models.AccessRequestReply.Kind",
    },
}

# --- Provena ---------------------------------------------------------------------------------
PROVENA_ORGANISATION = env_str("PROVENA_ORGANISATION", "Provena demo organisation")
# Scans may only register sources under these roots (':'-separated absolute paths).
PROVENA_ALLOWED_ROOTS = env_paths("PROVENA_ALLOWED_ROOTS")
# Thumbnails and other generated files; never beside the originals.
PROVENA_MEDIA_ROOT = Path(env_str("PROVENA_MEDIA_ROOT") or VAR_DIR / "media").resolve()
# `manage.py check` warns when the media root or the quarantine root has less free than this.
PROVENA_MIN_FREE_BYTES = env_int("PROVENA_MIN_FREE_BYTES", 1_000_000_000, minimum=0)
PROVENA_SCAN_WORKERS = env_int("PROVENA_SCAN_WORKERS", 0, minimum=0)  # 0: one per core
PROVENA_SCAN_BATCH_SIZE = env_int("PROVENA_SCAN_BATCH_SIZE", 64, minimum=1)
# Larger images are refused as decompression bombs (Pillow's own default is 89,478,485).
PROVENA_MAX_IMAGE_PIXELS = env_int("PROVENA_MAX_IMAGE_PIXELS", 178_956_970, minimum=1)
# A file still being read or parsed after this long is recorded as an error (docs/security.md).
PROVENA_EXAMINE_SECONDS = env_int("PROVENA_EXAMINE_SECONDS", 300, minimum=1)
PROVENA_IMAGE_EXTENSIONS = env_list(
    "PROVENA_IMAGE_EXTENSIONS", ".jpg,.jpeg,.jpe,.png,.tif,.tiff,.webp,.gif,.bmp"
)
# Scans started from a page run in a background thread (the embedded default without a broker).
PROVENA_BACKGROUND_SCANS = env_bool("PROVENA_BACKGROUND_SCANS", True)
# A running scan whose heartbeat is older than this is treated as dead (its process is gone).
PROVENA_SCAN_STALE_SECONDS = env_int("PROVENA_SCAN_STALE_SECONDS", 300, minimum=10)
# Storage cost used for estimated savings (HK$ per GB-month).
PROVENA_STORAGE_COST_PER_GB_MONTH = env_float("PROVENA_STORAGE_COST_PER_GB_MONTH", 0.25)
# The master rule's criteria, in order (README, "Master copy"; inventory/master_rule.py).
try:
    PROVENA_MASTER_RULE = validate_rule(
        env_list("PROVENA_MASTER_RULE", ",".join(DEFAULT_MASTER_RULE))
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"PROVENA_MASTER_RULE: {exc}") from exc
# Largest catalogue CSV the upload page accepts.
PROVENA_CATALOGUE_MAX_BYTES = env_int("PROVENA_CATALOGUE_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Most rows one uploaded catalogue may hold (more: refused with 400, split the file).
PROVENA_CATALOGUE_MAX_ROWS = env_int("PROVENA_CATALOGUE_MAX_ROWS", 100_000, minimum=1)
# An upload of more rows than this is imported in a background job with progress.
PROVENA_CATALOGUE_BACKGROUND_ROWS = env_int("PROVENA_CATALOGUE_BACKGROUND_ROWS", 2_000, minimum=1)
# Run those jobs in a thread of the web process (without a broker); off: in the request.
PROVENA_BACKGROUND_IMPORTS = env_bool("PROVENA_BACKGROUND_IMPORTS", True)

# --- Remediation (docs/remediation.md) ---------------------------------------------------------
# Where Provena moves files it removes from a source; None: PROVENA_MEDIA_ROOT/quarantine. It
# may not lie inside a source, nor a source inside it (refused when execution is switched on,
# at every execution, at source registration and by `manage.py check`).
_quarantine_root = env_paths("PROVENA_QUARANTINE_ROOT")
if len(_quarantine_root) > 1:
    raise ImproperlyConfigured("PROVENA_QUARANTINE_ROOT must be one folder, not a list")
PROVENA_QUARANTINE_ROOT = _quarantine_root[0] if _quarantine_root else None
# Quarantined files are purged only when they have been in quarantine this many days.
PROVENA_QUARANTINE_RETENTION_DAYS = env_int("PROVENA_QUARANTINE_RETENTION_DAYS", 30, minimum=1)
# Days from a decision to its tasks' due date, by severity: critical,high,medium,low.
try:
    PROVENA_REMEDIATION_DUE_DAYS = parse_due_days(
        env_str("PROVENA_REMEDIATION_DUE_DAYS", DEFAULT_DUE_DAYS) or DEFAULT_DUE_DAYS
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"PROVENA_REMEDIATION_DUE_DAYS: {exc}") from exc
# Licence fee saved per file removed, per year (a DAM or storage service that bills per file).
PROVENA_LICENCE_FEE_PER_FILE_YEAR = env_float("PROVENA_LICENCE_FEE_PER_FILE_YEAR", 0.0)
# The daily digest of overdue tasks (send_remediation_digest); the console backend prints it.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "provena@localhost")
# Links in e-mails point here (e.g. https://provena.example.org); empty: paths only.
PROVENA_SITE_URL = (env_str("PROVENA_SITE_URL", "") or "").rstrip("/")

# --- Celery (docs/scaling.md) -----------------------------------------------------------------
# Without a broker a scan examines files in a local process pool (the embedded default). With
# one, `manage.py scan` queues one task per batch and `celery -A governance worker` processes,
# on any machine that sees the storage and the database, examine and record them.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or ""
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# One queue per Provena installation, so several can share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env_str("PROVENA_CELERY_QUEUE", "provena") or "provena"
# A worker killed mid-task loses nothing: the message is acknowledged only after the task,
# each worker holds one message at a time, and the broker hands an unacknowledged message to
# another worker once the visibility timeout has passed (Redis). Tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than the slowest batch (a batch running longer is handed out again: harmless, wasted).
PROVENA_CELERY_VISIBILITY_TIMEOUT = env_int("PROVENA_CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": PROVENA_CELERY_VISIBILITY_TIMEOUT,
    # Look for abandoned messages about ten times per timeout (kombu's default: 100 s).
    "unacked_restore_interval": max(1, min(10, PROVENA_CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}

# --- Production hardening (active when not debugging) ---------------------------------------
# docs/security.md says what each of these protects; `manage.py check --deploy` is clean with
# the defaults (tests/governance/test_security_settings.py).
SESSION_COOKIE_SECURE = env_bool("PROVENA_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER below).
SECURE_SSL_REDIRECT = env_bool("PROVENA_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("PROVENA_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PROVENA_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# "preload" only permits submitting the domain to the browsers' preload lists.
SECURE_HSTS_PRELOAD = env_bool("PROVENA_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# A session lasts a working day unless configured otherwise; evidence about people sits behind it.
SESSION_COOKIE_AGE = env_int("PROVENA_SESSION_SECONDS", 12 * 3600, minimum=60)
# API tokens expire this many days after they are issued (governance/tokens.py).
PROVENA_API_TOKEN_DAYS = env_int("PROVENA_API_TOKEN_DAYS", 30, minimum=1)
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PROVENA_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# Content-Security-Policy: only this site's own scripts, styles, images and forms; no inline
# script, no framing. Inline style attributes stay allowed (progress bars set their width).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],  # the API docs' icons are data: URLs
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login throttling (django-axes): after PROVENA_LOGIN_FAILURE_LIMIT failed logins for one user
# name from one address, on the login page or the API token endpoint, both refuse it (429) for
# PROVENA_LOGIN_LOCKOUT_MINUTES; a successful login clears the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("PROVENA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PROVENA_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
# User name and address together: someone guessing elsewhere cannot lock the owner out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "governance.security.lockout_response"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PROVENA_LOG_LEVEL", "INFO")},
    "loggers": {"PIL": {"level": "WARNING"}},
}

# --- Faces and privacy review (docs/privacy.md) ---------------------------------------------
# The face pass runs once per unique rendition after each scan; off: no faces, no privacy cases.
# Who hears what the inventory did (inventory.events.inventory_changed), in this order: the
# inventory never calls the apps built on it. Remediation verifies tasks against a scan or
# fixity check; privacy opens and updates cases after the face pass or a regrouping.
PROVENA_INVENTORY_LISTENERS = [
    "governance.remediation.listeners.on_inventory_changed",
    "governance.privacy.listeners.on_inventory_changed",
]
# Who reads which copies have had a redaction verified, for the findings export's
# personal_data (a privacy selector; the inventory never imports privacy).
PROVENA_REDACTED_COPIES = "governance.privacy.selectors.cases.redacted_copy_ids"
PROVENA_FACES = env_bool("PROVENA_FACES", True)
PROVENA_FACE_MODEL = env_str("PROVENA_FACE_MODEL", "hog") or "hog"  # or "cnn" (slow on a CPU)
if PROVENA_FACE_MODEL not in ("hog", "cnn"):
    raise ImproperlyConfigured(f"PROVENA_FACE_MODEL must be hog or cnn, not {PROVENA_FACE_MODEL!r}")
PROVENA_FACE_DECODE_SIDE = env_int("PROVENA_FACE_DECODE_SIDE", 1600, minimum=200)
# An identifiable person: a face at least this many original pixels across, with this score.
PROVENA_FACE_MIN_PX = env_int("PROVENA_FACE_MIN_PX", 80, minimum=1)
PROVENA_FACE_MIN_SCORE = env_float("PROVENA_FACE_MIN_SCORE", 0.5)
# 128-d face encodings (needed to answer data access requests) are stored only when this is on,
# encrypted with PROVENA_FACE_KEY (Fernet keys, comma-separated, newest first; or _FILE).
PROVENA_FACE_ENCODINGS = env_bool("PROVENA_FACE_ENCODINGS", False)
PROVENA_FACE_KEY = env_str("PROVENA_FACE_KEY") or None
# Open a case for an identifiable person held once but in an external-facing source, too.
PROVENA_PRIVACY_CASE_EXTERNAL = env_bool("PROVENA_PRIVACY_CASE_EXTERNAL", False)
# Destructive decisions (retain master only, delete all) wait for a second legal reviewer.
PROVENA_PRIVACY_SECOND_REVIEWER = env_bool("PROVENA_PRIVACY_SECOND_REVIEWER", False)
PROVENA_PRIVACY_CASE_DAYS = env_int("PROVENA_PRIVACY_CASE_DAYS", 30, minimum=1)
PROVENA_DSAR_DAYS = env_int("PROVENA_DSAR_DAYS", 40, minimum=1)
PROVENA_REFERENCE_PHOTO_MAX_BYTES = env_int(
    "PROVENA_REFERENCE_PHOTO_MAX_BYTES", 15 * 1024 * 1024, minimum=1024
)
# Faces closer than this (Euclidean distance of encodings) are offered as the same person.
PROVENA_DSAR_MATCH_DISTANCE = env_float("PROVENA_DSAR_MATCH_DISTANCE", 0.6)
# The legal role is reminded of a request this many days before it is due (and once overdue).
PROVENA_DSAR_REMINDER_DAYS = env_int("PROVENA_DSAR_REMINDER_DAYS", 7, minimum=0)
# Reference photos, candidates and response-pack files are deleted this long after closing.
PROVENA_DSAR_RETENTION_DAYS = env_int("PROVENA_DSAR_RETENTION_DAYS", 90, minimum=0)

# --- Audit log checkpoints (governance/audit_checkpoints.py) -----------------------------------
# Folder for signed checkpoints of the audit chain head, outside the database; None:
# PROVENA_MEDIA_ROOT/audit-checkpoints. Put it on other storage than the database for the
# checkpoints to outlast someone who can write the database.
PROVENA_AUDIT_CHECKPOINT_DIR = env_str("PROVENA_AUDIT_CHECKPOINT_DIR") or None

# --- Reports (signed PDF reports; see docs/reports.md) ----------------------------------------
# PKCS#12 file with the organisation's signing certificate and key; its password comes from
# PROVENA_SIGNING_PASSWORD or the file named by PROVENA_SIGNING_PASSWORD_FILE.
PROVENA_SIGNING_CERT = env_str("PROVENA_SIGNING_CERT") or None
PROVENA_SIGNING_PASSWORD = env_str("PROVENA_SIGNING_PASSWORD") or None
# Optional RFC 3161 timestamp service (e.g. https://freetsa.org/tsr); signatures carry its time.
PROVENA_TSA_URL = env_str("PROVENA_TSA_URL") or None
PROVENA_REPORT_THUMBNAILS = env_bool("PROVENA_REPORT_THUMBNAILS", True)
# Tables list the largest groups and the first errors; the attachments hold everything.
PROVENA_REPORT_MAX_GROUPS = env_int("PROVENA_REPORT_MAX_GROUPS", 200, minimum=1)
PROVENA_REPORT_MAX_ERRORS = env_int("PROVENA_REPORT_MAX_ERRORS", 500, minimum=1)
PROVENA_REPORT_VERIFY_MAX_BYTES = env_int(
    "PROVENA_REPORT_VERIFY_MAX_BYTES", 50_000_000, minimum=1024
)
# Largest fingerprint bundle the "Before a merge" page accepts (docs/fingerprint-bundle.md).
PROVENA_BUNDLE_MAX_BYTES = env_int("PROVENA_BUNDLE_MAX_BYTES", 50_000_000, minimum=1024)
PROVENA_COST_CURRENCY = env_str("PROVENA_COST_CURRENCY", "HK$")
# Reports built from a page or the API render in a background thread without a broker.
PROVENA_BACKGROUND_REPORTS = env_bool("PROVENA_BACKGROUND_REPORTS", True)
# pyHanko logs every untrusted self-signed chain with a traceback; the verifier reports it.
LOGGING["loggers"].update(
    {
        "pyhanko": {"level": "ERROR"},
        "pyhanko_certvalidator": {"level": "CRITICAL"},
        "fontTools": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    }
)

# --- Request size (docs/security.md) ---------------------------------------------------------
# Any request body larger than this is refused with 413 before it is read: the largest upload a
# page takes, plus room for the form around it.
PROVENA_MAX_REQUEST_BYTES = env_int(
    "PROVENA_MAX_REQUEST_BYTES",
    max(
        DATA_UPLOAD_MAX_MEMORY_SIZE,
        PROVENA_CATALOGUE_MAX_BYTES,
        PROVENA_REPORT_VERIFY_MAX_BYTES,
        PROVENA_BUNDLE_MAX_BYTES,
        PROVENA_REFERENCE_PHOTO_MAX_BYTES,
    )
    + 1024 * 1024,
    minimum=1024,
)
# django-axes logs each login at INFO; failures and lockouts (WARNING) are the news.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
