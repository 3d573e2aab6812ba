"""Every route declares who may use it; a route that does not is refused."""

import pytest
from flask import Blueprint

from monitoring.core.auth import access_of
from monitoring.core.db import db


def test_every_route_declares_its_access(app):
    undeclared = [
        rule.rule for rule in app.url_map.iter_rules() if access_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == []


def test_declaring_twice_is_an_error():
    from monitoring.core.auth import public, roles

    with pytest.raises(RuntimeError):

        @public
        @roles("admin")
        def view():
            return "x"


def test_undeclared_route_is_refused(database_url, tmp_path):
    # A separate app; the shared `db` singleton is re-bound afterwards by the fixture app.
    from monitoring import create_app
    from monitoring.core.testing import test_config

    application = create_app(test_config(database_url, INSTANCE_PATH=str(tmp_path)))
    bp = Blueprint("undeclared", __name__)

    @bp.route("/undeclared")
    def undeclared():
        return "secret"

    application.register_blueprint(bp)
    try:
        response = application.test_client().get("/undeclared")
        assert response.status_code == 403
        assert b"secret" not in response.data
    finally:
        db.state(application).engine.dispose()


@pytest.mark.parametrize("path", ["/", "/account", "/admin/users"])
def test_anonymous_is_sent_to_login(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_role_not_allowed_gets_404(app, client_for, monitor):
    client = client_for(monitor)
    assert client.get("/admin/users").status_code == 404
    assert client.get("/admin/no-such-page").status_code == 404
