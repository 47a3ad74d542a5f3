"""Security headers on every response (X1, R13): a Content-Security-Policy that allows only this
server's own scripts, styles, images and fonts (the intranet has no internet, and a page that
tried to load something from outside would be broken there anyway), no framing, no MIME
sniffing, no referrer outside the site, and `Cache-Control: no-store` on everything but the
public pages and static files (a shared computer's browser cache or a proxy keeps no signed-in
page, no API answer).

FAB's templates carry `nonce="{{ baselib.get_nonce() }}"` on their few inline scripts and ask for
a `csp_nonce()` function: we provide it, one random nonce per request, and name it in the
policy. Our own templates have no inline script (static/js/ files instead). Inline `style`
attributes are allowed: FAB's widgets use them and they cannot run code."""

from __future__ import annotations

import secrets

from flask import Flask, g, request

STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Anonymous, published material: browsers and proxies may keep it. Everything else (signed-in
# pages, the REST API, the login form) may hold personal or unpublished data: never stored.
CACHEABLE_PREFIXES = ("/public/", "/static/")
CACHEABLE_PATHS = frozenset({"/public", "/favicon.ico"})


def may_be_cached(path: str) -> bool:
    return path in CACHEABLE_PATHS or path.startswith(CACHEABLE_PREFIXES)


def csp_nonce() -> str:
    """This request's nonce (created on first use)."""
    nonce = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_security_headers(app: Flask) -> None:
    # A global, not a context processor: FAB's macros are imported without the context.
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        if not may_be_cached(request.path):
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Served over HTTPS: tell browsers to stay there.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
