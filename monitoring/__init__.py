"""Case management for worker-driven monitoring of electronics supply chains."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from monitoring.config import load_config
from monitoring.core.csrf import csrf
from monitoring.core.logs import configure_logging


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the application: configuration, extensions, blueprints and CLI."""
    settings = load_config(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    configure_logging(logging.INFO if not app.testing else logging.WARNING)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from monitoring.accounts.login_setup import init_accounts_auth
    from monitoring.core.auth import init_auth
    from monitoring.core.converters import init_converters
    from monitoring.core.db import db
    from monitoring.core.errors import init_errors
    from monitoring.core.i18n import init_i18n
    from monitoring.core.keyring import init_keyring
    from monitoring.core.proxies import init_proxy_check
    from monitoring.core.security import init_security
    from monitoring.core.sessions import DatabaseSessionInterface
    from monitoring.core.source import init_source
    from monitoring.core.urls import init_urls
    from monitoring.core.widgets import init_widgets

    init_converters(app)  # before any blueprint adds an <int:...> rule
    db.init_app(app)
    init_keyring(app)
    app.session_interface = DatabaseSessionInterface()
    csrf.init_app(app)
    init_i18n(app)
    init_widgets(app)
    init_urls(app)
    init_auth(app)
    init_accounts_auth(app)
    init_security(app)
    init_source(app)
    init_proxy_check(app)
    init_errors(app)

    from monitoring.accounts.key_views import bp as keys_bp
    from monitoring.accounts.two_factor_views import bp as two_factor_bp
    from monitoring.accounts.views import bp as accounts_bp
    from monitoring.admin.views import bp as admin_bp
    from monitoring.api import bp as api_bp
    from monitoring.cases.access.views import bp as access_bp
    from monitoring.cases.action_views import bp as actions_bp
    from monitoring.cases.audits.views import bp as audits_bp
    from monitoring.cases.compliance.views import bp as compliance_bp
    from monitoring.cases.meetings.views import bp as meetings_bp
    from monitoring.cases.retaliation_views import bp as cases_retaliation_bp
    from monitoring.cases.views import bp as cases_bp
    from monitoring.core.views import bp as core_bp
    from monitoring.notifications.views import bp as notifications_bp
    from monitoring.publication.views import bp as publication_bp
    from monitoring.reporting.export_views import bp as exports_bp
    from monitoring.reporting.views import bp as reporting_bp
    from monitoring.supplychain.circularity.views import bp as circularity_bp
    from monitoring.supplychain.import_views import bp as supplychain_tools_bp
    from monitoring.supplychain.views import bp as supplychain_bp
    from monitoring.testimony.public import bp as report_bp
    from monitoring.testimony.retaliation_views import bp as retaliation_bp
    from monitoring.testimony.routing_views import bp as routing_bp
    from monitoring.testimony.survey_views import bp as survey_bp
    from monitoring.testimony.views import bp as testimony_bp
    from monitoring.testimony.views import coverage_bp as testimony_coverage_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(keys_bp)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(supplychain_bp)
    app.register_blueprint(supplychain_tools_bp)
    app.register_blueprint(testimony_bp)
    app.register_blueprint(testimony_coverage_bp)
    app.register_blueprint(retaliation_bp)
    app.register_blueprint(routing_bp)
    app.register_blueprint(report_bp)
    app.register_blueprint(survey_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(compliance_bp)
    app.register_blueprint(access_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(circularity_bp)
    app.register_blueprint(audits_bp)
    app.register_blueprint(cases_retaliation_bp)
    app.register_blueprint(publication_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    # Worker forms check their CSRF token themselves, after refusing over-large bodies unread.
    csrf.exempt(report_bp)

    from monitoring.core.auth import public

    app.view_functions["static"] = public(app.view_functions["static"])

    # The features' answers to events announced below them (monitoring.core.hooks).
    from monitoring.cases import presentation as cases_presentation
    from monitoring.cases import subscribers as _cases_subscribers  # noqa: F401
    from monitoring.cli import register_cli
    from monitoring.notifications import subscribers as _notifications_subscribers  # noqa: F401
    from monitoring.supplychain.circularity import subscribers as _circularity_subscribers  # noqa: F401
    from monitoring.testimony import subscribers as _testimony_subscribers  # noqa: F401

    cases_presentation.init_app(app)  # the case page's globals: who moves a case on, what is missing
    register_cli(app)
    return app
