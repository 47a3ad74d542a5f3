"""Security headers on every response: a Content-Security-Policy allowing only this server
(scripts also by this request's nonce), no framing, no MIME sniffing, same-origin referrers."""

import re

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def _check(response):
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "http" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    return policy


def test_every_page_carries_the_headers_and_its_scripts_the_nonce(app, world, login_as):
    leader = login_as("leader")
    for client, url in [
        (app.test_client(), "/login/"),
        (app.test_client(), "/public/"),
        (app.test_client(), "/public/blacklist?format=csv"),
        (leader, "/"),
        (leader, "/targets/list/"),
        (leader, "/dashboard/"),
        (leader, "/api/v1/target/"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = _check(response)
        nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
        for attributes in _SCRIPT.findall(response.get_data(as_text=True)):
            # Every script is our own file, or inline with this response's nonce.
            assert 'src="/' in attributes or f'nonce="{nonce}"' in attributes, (url, attributes)
            assert 'src="http' not in attributes
    # A new nonce for every response.
    first = leader.get("/").headers["Content-Security-Policy"]
    assert first != leader.get("/").headers["Content-Security-Policy"]
    # Error pages too.
    _check(app.test_client().get("/public/credit/999999"))


def test_cookies_are_http_only_and_same_site(app, world):
    client = app.test_client()
    response = client.get("/login/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" not in response.headers  # not configured for HTTPS here
    assert "Secure" not in cookie


def test_behind_https_cookies_are_secure_and_hsts_is_sent(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = app.test_client().get("/login/", base_url="https://localhost")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_signed_in_pages_and_api_answers_are_never_stored(app, world, login_as, api_token):
    """A shared office computer's browser cache (or a proxy) must keep no page with personal
    data: every signed-in page and API answer says no-store; public pages may be cached."""
    leader = login_as("leader")
    for client, url in [
        (leader, "/"),
        (leader, "/users/userinfo/"),
        (leader, "/targets/list/"),
        (leader, "/api/v1/target/"),
        (app.test_client(), "/login/"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    token = api_token("operator_a")
    response = app.test_client().get(
        "/api/v1/target/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    for url in ("/public/", "/public/blacklist"):
        response = app.test_client().get(url)
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
