"""Settings, read from the environment so one image runs anywhere."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'huiju.sqlite3'}"
    # Heroku-style URLs name the driver implicitly; we always use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: Where `make run` keeps the random key it generates once for a newcomer's machine.
SECRET_KEY_FILE = Path(os.environ.get("SECRET_KEY_FILE", INSTANCE_DIR / "secret_key"))
#: Keys that were ever written in this repository or its docs: never accepted.
KNOWN_PUBLIC_KEYS = frozenset({"dev-only-change-me", "change-me", "secret", "dev"})
MIN_SECRET_KEY_BYTES = 32


def _secret_key() -> str:
    """SECRET_KEY from the environment, else the file named by SECRET_KEY_FILE (by
    default `instance/secret_key`, written by `make run`), else nothing: then the
    app refuses to start (see `portal.security.check_secret_key`)."""
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    try:
        return SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url()
    # hide_parameters: a failing statement is logged without its values, which may
    # be personal data or a token's hash.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    #: How many reverse proxies (nginx, a load balancer) stand in front of the app:
    #: their X-Forwarded-For/-Proto/-Host are trusted, nobody else's. 0 = none.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    REDIS_URL = os.environ.get("REDIS_URL", "")

    # Rate limits: in memory for one process, Redis when several share the load.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    DATA_DOWNLOAD_RATE_LIMIT = os.environ.get(
        "DATA_DOWNLOAD_RATE_LIMIT", "30 per minute; 300 per hour"
    )
    #: Rows per database round trip while an open-data download streams.
    OPENDATA_BATCH_SIZE = int(os.environ.get("OPENDATA_BATCH_SIZE", "1000"))
    #: The one Open311 jurisdiction this portal answers for (`jurisdiction_id`).
    OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "huiju.example")
    CACHE_TYPE = "RedisCache" if REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = REDIS_URL
    CACHE_KEY_PREFIX = "huiju:"
    #: How long public statistics may be old, in seconds (they are computed from
    #: the whole timeline of the period).
    CACHE_DEFAULT_TIMEOUT = int(os.environ.get("STATS_CACHE_SECONDS", "300"))
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # A sliding window: a burst cannot straddle the start of a new minute.
    RATELIMIT_STRATEGY = "moving-window"
    SUBMIT_RATE_LIMIT = os.environ.get("SUBMIT_RATE_LIMIT", "5 per minute; 30 per hour")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "5 per minute")  # failed logins
    #: Failed logins (wrong password or second-factor code) for one account, from
    #: any client address, within the window, lock it for LOGIN_LOCK_MINUTES.
    LOGIN_ACCOUNT_MAX_FAILURES = int(os.environ.get("LOGIN_ACCOUNT_MAX_FAILURES", "10"))
    LOGIN_ACCOUNT_WINDOW_MINUTES = int(os.environ.get("LOGIN_ACCOUNT_WINDOW_MINUTES", "15"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))
    #: Staff (admins, partner staff) sessions end after this long without a request,
    #: and this long after the login whatever happens; staff get no remember-me.
    STAFF_IDLE_MINUTES = int(os.environ.get("STAFF_IDLE_MINUTES", "120"))
    #: With no date set on /admin/settings/two-factor, staff must set up two-factor
    #: sign-in this many days after their account was created.
    STAFF_TWO_FACTOR_GRACE_DAYS = _int("STAFF_TWO_FACTOR_GRACE_DAYS", 14)
    STAFF_SESSION_HOURS = int(os.environ.get("STAFF_SESSION_HOURS", "12"))
    #: Between the right password and the second factor, at most this long.
    TWO_FACTOR_PENDING_MINUTES = int(os.environ.get("TWO_FACTOR_PENDING_MINUTES", "5"))
    #: The name authenticator apps show next to the account.
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Huiju")
    ACCOUNT_RATE_LIMIT = os.environ.get("ACCOUNT_RATE_LIMIT", "10 per hour")  # register, reset
    VOTE_RATE_LIMIT = os.environ.get("VOTE_RATE_LIMIT", "60 per minute")  # supports, votes

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    # Babel spells zh_CN with its script, so its catalogue lives in
    # translations/zh_Hans_CN; everywhere else (cookie, URLs) it is zh_CN.
    LANGUAGES = ("zh_CN", "en")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # A site served over HTTPS sends its cookies only over HTTPS (and HSTS, see
    # create_app) unless told otherwise.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", PREFERRED_URL_SCHEME == "https")
    # Absolute links in e-mails need the public address of the site.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 1024 * 1024))
    # Photos on needs. The folder is outside static/; several app servers share it.
    PHOTO_FOLDER = os.environ.get("PHOTO_FOLDER", str(INSTANCE_DIR / "uploads" / "photos"))
    PHOTOS_PER_UPLOAD = 3
    PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", 10 * 1024 * 1024))  # per file
    PHOTO_MAX_PIXELS = int(os.environ.get("PHOTO_MAX_PIXELS", 50_000_000))  # 8160 × 6120
    #: PNG and WebP decode at full size (JPEG at a reduced one): 16 MP is 4000 × 4000.
    PHOTO_MAX_PIXELS_LOSSLESS = _int("PHOTO_MAX_PIXELS_LOSSLESS", 16_000_000)
    PHOTO_DISPLAY_EDGE = 1600  # longest side of the picture shown on its own
    PHOTO_THUMB_EDGE = 400  # longest side of the thumbnail on need pages
    #: Forms with photos may send this much (all files and fields together).
    PHOTO_REQUEST_MAX_BYTES = PHOTOS_PER_UPLOAD * PHOTO_MAX_BYTES + 1024 * 1024
    #: Photos of a form shown again with errors wait this long for its next submit.
    PHOTO_STAGING_HOURS = 24
    #: The privacy notice in force: templates/core/privacy/<version>.html. Earlier
    #: versions stay readable at /privacy?version=…; consents name their version.
    PRIVACY_NOTICE_VERSION = "2026-12"
    #: Contact details of a submitter are erased this many days after the need
    #: ended (closed, rejected, withdrawn, merged): `flask portal purge-contacts`.
    CONTACT_RETENTION_DAYS = int(os.environ.get("CONTACT_RETENTION_DAYS", "180"))
    #: "Download my data" on /me, per account: each builds a ZIP of the photos.
    DATA_EXPORT_RATE_LIMIT = os.environ.get("DATA_EXPORT_RATE_LIMIT", "5 per hour")
    #: The optional map of a need's position (portal/core/maps.py). A tile URL
    #: template of the operator's tile service, e.g.
    #: https://tiles.example.org/{z}/{x}/{y}.png; empty: no map anywhere, the
    #: forms keep their coordinate inputs. Its host is added to the CSP's img-src.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    #: Shown on the map, as the tile service's licence requires (HTML is escaped).
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    MAP_MAX_ZOOM = _int("MAP_MAX_ZOOM", 18)
    #: Where a map without a pin opens ("latitude,longitude"), and how close.
    MAP_CENTER = os.environ.get("MAP_CENTER", "39.9042,116.4074")
    MAP_ZOOM = _int("MAP_ZOOM", 12)
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    NEEDS_PER_PAGE = 20
    MAIL_FROM = os.environ.get("MAIL_FROM", "Huiju <noreply@huiju.example>")
    # SMTP delivery of the outbox (`flask portal send-mail`).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)  # STARTTLS
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)  # implicit TLS (port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", 10))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", 8))
    MAIL_BATCH_SIZE = int(os.environ.get("MAIL_BATCH_SIZE", 100))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-for-the-suite-only-0123456789"  # noqa: S105 — tests only
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    CACHE_TYPE = "NullCache"  # every test sees the numbers of its own data
