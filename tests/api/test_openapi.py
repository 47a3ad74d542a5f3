"""/api/v1/_openapi describes every workflow endpoint (issue 19): each POST route under
/api/v1 that is not FAB's create has its request body (or says it takes none) and its
answers, found from the application's routes, not a hand list."""

import re

from flask_appbuilder.api import BaseApi

CRUD = {"post"}  # FAB's create: its body is the resource's schema


def _workflow_posts(app):
    for api in app.appbuilder.baseviews:
        if not isinstance(api, BaseApi):
            continue
        for name in dir(api):
            function = getattr(api, name, None)
            # Our routes only: not FAB's sign-in and refresh, not the tests' probe.
            if not (getattr(function, "__module__", None) or "").startswith("app."):
                continue
            for url, methods in getattr(function, "_urls", ()):
                if "POST" not in methods or name in CRUD:
                    continue
                if api.include_route_methods is not None and name not in api.include_route_methods:
                    continue
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", api.route_base + url)
                yield path


def test_every_workflow_endpoint_has_its_body_and_answers(app, world, api_token):
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    spec = app.test_client().get("/api/v1/_openapi", headers=headers).get_json()
    paths = sorted(set(_workflow_posts(app)))
    assert len(paths) > 30
    problems = []
    for path in paths:
        operation = spec["paths"].get(path, {}).get("post")
        if operation is None:
            problems.append(f"{path}: not in the spec")
            continue
        if "requestBody" not in operation and not operation.get("x-takes-no-body"):
            problems.append(f"{path}: no requestBody and not declared as taking none")
        if not {"200", "400"} <= set(operation.get("responses", {})):
            problems.append(f"{path}: answers not described")
    assert not problems, "\n".join(problems)


def test_a_workflow_body_names_its_fields_in_chinese(app, world, api_token):
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    spec = app.test_client().get("/api/v1/_openapi", headers=headers).get_json()
    body = spec["paths"]["/api/v1/plan/{pk}/return"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["opinion"]
    assert schema["properties"]["opinion"] == {"type": "string", "description": "意见。"}
    evidence = spec["paths"]["/api/v1/record/{pk}/evidence"]["post"]["requestBody"]
    assert "multipart/form-data" in evidence["content"]
    submit = spec["paths"]["/api/v1/plan/{pk}/submit"]["post"]
    assert submit["x-takes-no-body"] is True and "requestBody" not in submit
