"""Helpers of test_access_matrix.py: every registered route with the permission it is guarded
by, and one request per route as a given client."""

from __future__ import annotations

import re

# Reachable by anybody by design: login and logout, language switch, static files, the public
# disclosure pages, FAB's menu data (empty without a login) and its "back" helper.
OPEN_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "favicon",
    "AuthDBView.login",
    "AuthDBView.login_code",  # the second step of a sign-in: nothing without its first
    "AuthDBView.logout",
    "LocaleView.index",
    "HomeView.index",
    "UtilView.back",
    "SecurityApi.login",
    "SecurityApi.refresh",
    "MenuApi.get_menu_data",
    "SwaggerView.show",
}
MISSING = "999999"  # no row has this id: an allowed request ends in 404, never touches data


def guarded_routes(app):
    """[(rule, method, resource, permission)] for every route that is not open by design.
    The permission is derived the way FAB checks it: the view's class_permission_name and
    "can_" + its method_permission_name for the method."""
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    routes = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint in OPEN_ENDPOINTS or endpoint.startswith("public."):
            continue
        view_name, _, method = endpoint.partition(".")
        view = views.get(view_name)
        if view is None:
            routes.append((rule, method, None, None))
            continue
        mapping = view.method_permission_name or {}
        permission = "can_" + mapping.get(method, method)
        routes.append((rule, method, view.class_permission_name, permission))
    return routes


def url_of(rule) -> str:
    url = rule.rule
    for _converter, arg in re.findall(r"<(?:(\w+):)?(\w+)>", url):
        value = {"name": "nonexistent", "filename": "nonexistent", "kind": "case"}.get(arg, MISSING)
        url = re.sub(rf"<(?:\w+:)?{arg}>", value, url)
    return url


def request_as(client, rule):
    """One request of the route's first method (GET when it has one), with no data."""
    methods = [m for m in ("GET", "POST", "PUT", "DELETE") if m in rule.methods]
    method = methods[0]
    url = url_of(rule)
    if rule.rule.startswith("/api/"):
        return method, client.open(url, method=method, json={})
    return method, client.open(url, method=method, data={})


def outcome(response) -> str:
    """ "denied" (redirect to the login page, 401 or 403), "error" (5xx) or "allowed"."""
    if response.status_code >= 500:
        return "error"
    if response.status_code in (401, 403):
        return "denied"
    if response.status_code in (301, 302) and "/login" in response.headers.get("Location", ""):
        return "denied"
    return "allowed"
