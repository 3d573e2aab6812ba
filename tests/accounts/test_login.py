from tests.conftest import PASSWORD, csrf_token, login


def test_login_page_is_served(app):
    assert app.test_client().get("/login").status_code == 200


def test_login_and_logout(app, monitor):
    client = app.test_client()
    response = login(client, monitor)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused(app, monitor):
    client = app.test_client()
    response = login(client, monitor, PASSWORD + "x")
    assert response.status_code == 200
    assert "not correct" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
