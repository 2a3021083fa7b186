"""Huiju (汇聚): a public participation portal."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.config import INSTANCE_DIR, Config
from portal.core.errors import register_error_handlers
from portal.core.maps import ImageSources, check_map_settings
from portal.core.params import init_app as init_params
from portal.core.security import check_secret_key, redact_logs, trust_proxies
from portal.extensions import (
    babel,
    cache,
    csrf,
    db,
    htmx_ext,
    limiter,
    login_manager,
    migrate,
    talisman,
)
from portal.htmx import add_vary_header
from portal.i18n import select_locale
from portal.privacy.caching import forbid_storing_personal_pages

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # 'self' data: blob: (previews of photos before they are sent), and the
    # map's tile host when MAP_TILE_URL is set: read on each response.
    "img-src": ImageSources(),
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)

    check_secret_key(app)
    check_map_settings(app)
    trust_proxies(app)
    redact_logs()
    _init_extensions(app)
    _register_blueprints(app)

    # Late (app factory): `import portal.x` runs this file, and must not load every area.
    from portal.notify.subscribers import connect as connect_notify

    connect_notify()  # e-mails follow the domain's signals, in their transaction

    register_error_handlers(app)
    app.after_request(add_vary_header)
    app.after_request(forbid_storing_personal_pages)

    # Late (app factory, CLI): the commands import every area they run.
    from portal.areas.cli import register_commands as register_area_commands
    from portal.cli import portal_cli
    from portal.feedback.cli import register_commands as register_feedback_commands
    from portal.notify.cli import register_commands as register_notify_commands
    from portal.partners.cli import register_commands as register_partner_commands
    from portal.privacy.cli import register_commands as register_privacy_commands

    register_notify_commands(portal_cli)
    register_feedback_commands(portal_cli)
    register_partner_commands(portal_cli)
    register_privacy_commands(portal_cli)
    register_area_commands(portal_cli)
    app.cli.add_command(portal_cli)
    logging.getLogger(__name__).debug("app created")
    return app


def _init_extensions(app: Flask) -> None:
    # Late (app factory): every model, registered before migrations, loads every area.
    from portal import models  # noqa: F401

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    cache.init_app(app)
    htmx_ext.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config.get("SESSION_COOKIE_SECURE", False),
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        # Sent on HTTPS requests only, as the standard says.
        strict_transport_security=app.config.get("SESSION_COOKIE_SECURE", False),
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers run beside the writer; the busy timeout makes writers wait
    for each other instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    # Late (app factory): the views import every area; `import portal.x` must not.
    from portal.admin.views import bp as admin_bp
    from portal.areas.views import bp as areas_bp
    from portal.audit.views import bp as audit_bp
    from portal.auth.admin import bp as users_bp
    from portal.auth.views import bp as auth_bp
    from portal.categories.views import bp as categories_bp
    from portal.comments.views import bp as comments_bp
    from portal.core.admin import bp as settings_bp
    from portal.core.views import bp as core_bp
    from portal.feedback.views import bp as feedback_bp
    from portal.me.views import bp as me_bp
    from portal.moderation.views import bp as moderation_bp
    from portal.needs.views import bp as needs_bp
    from portal.notify.views import bp as notify_bp
    from portal.open311.developers import bp as developers_bp
    from portal.open311.keys import bp as apikeys_bp
    from portal.open311.views import bp as open311_bp
    from portal.opendata.views import bp as opendata_bp
    from portal.partners.admin import bp as partner_admin_bp
    from portal.partners.directory import bp as directory_bp
    from portal.partners.organisation import bp as partner_org_bp
    from portal.partners.views import bp as partner_bp
    from portal.photos.views import bp as photos_bp
    from portal.projects.views import bp as projects_bp
    from portal.routing.views import bp as routing_bp
    from portal.transparency.views import bp as transparency_bp
    from portal.triage.views import bp as triage_bp
    from portal.voting.views import bp as voting_bp
    from portal.workdays.views import bp as workdays_bp

    init_params(app)  # before the rules are added: they use its `int` converter
    for blueprint in (
        core_bp,
        auth_bp,
        needs_bp,
        voting_bp,
        notify_bp,
        me_bp,
        feedback_bp,
        triage_bp,
        admin_bp,
        audit_bp,
        partner_admin_bp,
        users_bp,
        settings_bp,
        categories_bp,
        workdays_bp,
        partner_bp,
        partner_org_bp,
        projects_bp,
        comments_bp,
        directory_bp,
        transparency_bp,
        opendata_bp,
        open311_bp,
        apikeys_bp,
        developers_bp,
        photos_bp,
        moderation_bp,
        areas_bp,
        routing_bp,
    ):
        app.register_blueprint(blueprint)
