"""Notice requests that came through a reverse proxy the app was not told about.

Behind a proxy with ``MONITORING_TRUSTED_PROXIES=0`` every request seems to come from the proxy:
thirty failed logins from anyone lock all staff out, and all workers share one report limit.
Such a request carries ``X-Forwarded-For`` and comes from a private or loopback address; the
log says so loudly (at most every few minutes per process) and admins see it on every page.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from flask import Flask, current_app, has_request_context, request
from flask_login import current_user

from monitoring.core.roles import sees_operator_notices

logger = logging.getLogger(__name__)

# Seconds between two log lines about it from one process.
WARN_EVERY_SECONDS = 600
_last_warned: dict[str, float] = {}


def uncounted_proxy() -> str | None:
    """The proxy's address if this request came through a proxy the configuration does not count."""
    if current_app.config["TRUSTED_PROXIES"] or "X-Forwarded-For" not in request.headers:
        return None
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return None
    return str(address) if address.is_private or address.is_loopback else None


def init_proxy_check(app: Flask) -> None:
    @app.before_request
    def _warn_about_uncounted_proxy() -> None:
        proxy = uncounted_proxy()
        now = time.monotonic()
        if proxy is None or now - _last_warned.get(proxy, -WARN_EVERY_SECONDS) < WARN_EVERY_SECONDS:
            return
        _last_warned[proxy] = now
        logger.error(
            "requests come through a reverse proxy at %s (they carry X-Forwarded-For) but "
            "MONITORING_TRUSTED_PROXIES is 0: every client seems to be the proxy, so one person's failed "
            "logins lock out all staff and all workers share one report limit; set "
            "MONITORING_TRUSTED_PROXIES to the number of proxies in front of the app",
            proxy,
        )

    @app.context_processor
    def _proxy_notice() -> dict[str, object]:
        def uncounted_proxy_notice() -> str | None:
            if not has_request_context() or not current_user.is_authenticated:
                return None
            if not sees_operator_notices(current_user):
                return None
            return uncounted_proxy()

        return {"uncounted_proxy_notice": uncounted_proxy_notice}
