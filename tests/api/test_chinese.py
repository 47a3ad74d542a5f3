"""The REST API answers in the interface language (issue 19): every message (FAB's own: not
found, bad rison, refusals, invalid bodies) and every label and title of every resource is
Chinese by default, walked over appbuilder's registered ModelRestApis, not a hand list. Field
names (the JSON keys) stay as they are: they are the API's contract. A user who switches the
interface to English gets the English texts."""

import re

from flask_appbuilder.api import ModelRestApi

USERS = ["operator_a", "leader", "inspector_a", "jointoffice", "admin"]
# Words allowed inside Chinese text: the format's name, a date's pattern, and the bad values
# the requests send (a message may quote them).
ALLOWED = {"JSON", "YYYY", "MM", "DD", "HH", "SS", "abc"}
WORD = re.compile(r"[A-Za-z][A-Za-z_.]*[A-Za-z]")


def _english_words(value, allowed) -> list[str]:
    """Every ASCII word in the texts of `value` (dict keys are field names: not checked)."""
    if isinstance(value, dict):
        return [w for v in value.values() for w in _english_words(v, allowed)]
    if isinstance(value, list):
        return [w for v in value for w in _english_words(v, allowed)]
    if isinstance(value, str):
        return [w for w in WORD.findall(value) if w not in ALLOWED and w not in allowed]
    return []


def _resources(app):
    """The application's resources (not the tests' own probe)."""
    return [
        v
        for v in app.appbuilder.baseviews
        if isinstance(v, ModelRestApi) and not type(v).__module__.startswith("tests.")
    ]


def _readers(client, api, tokens):
    """The JWTs of the test users who may read the resource (those who may also write it
    get past the refusal to the checks of the body)."""
    readers = []
    for username in USERS:
        headers = {"Authorization": f"Bearer {tokens[username]}"}
        if client.get(f"/api/v1/{api.resource_name}/_info", headers=headers).status_code == 200:
            readers.append(headers)
    assert readers, f"no test user may read {api.resource_name}"
    return readers


def _texts_of(response) -> dict:
    """The texts of an answer: its message, labels, descriptions, titles and field infos."""
    body = response.get_json(silent=True) or {}
    texts = {}
    for key in (
        "message",
        "label_columns",
        "description_columns",
        "list_title",
        "show_title",
        "add_title",
        "edit_title",
    ):
        if key in body:
            texts[key] = body[key]
    for key in ("add_columns", "edit_columns"):
        for field in body.get(key) or []:
            texts[f"{key}.{field.get('name')}"] = [
                field.get("label") or "",
                field.get("description") or "",
            ]
    for column, operators in (body.get("filters") or {}).items():
        texts[f"filters.{column}"] = [op.get("name") or "" for op in operators]
    return texts


def _field_names(api) -> set[str]:
    names = set(api.datamodel.get_columns_list())
    for columns in (api.list_columns, api.show_columns, api.add_columns, api.edit_columns):
        for column in columns or []:
            names.update(column.split("."))
    return names


def _answers(client, api, headers):
    base = f"/api/v1/{api.resource_name}"
    yield "_info", client.get(f"{base}/_info", headers=headers)
    yield "list", client.get(f"{base}/?q=(page:0,page_size:1)", headers=headers)
    yield "list ?q=abc", client.get(f"{base}/?q=abc", headers=headers)
    yield "list ?q=(page:x)", client.get(f"{base}/?q=(page:x)", headers=headers)
    yield "show of a missing id", client.get(f"{base}/999999999", headers=headers)
    yield "a list as the POST body", client.post(f"{base}/", json=[1], headers=headers)
    yield (
        "POST of text",
        client.post(f"{base}/", data="abc", content_type="text/plain", headers=headers),
    )
    yield "a bad POST body", client.post(f"{base}/", json={"__no_such_field": 1}, headers=headers)
    yield "PUT of a missing id", client.put(f"{base}/999999999", json={}, headers=headers)
    yield "DELETE of a missing id", client.delete(f"{base}/999999999", headers=headers)


def test_every_resource_answers_in_chinese(app, world, api_token):
    client = app.test_client()
    resources = _resources(app)
    assert len(resources) > 10
    tokens = {username: api_token(username) for username in USERS}
    problems = set()
    for api in resources:
        allowed = _field_names(api)
        for headers in _readers(client, api, tokens):
            for what, response in _answers(client, api, headers):
                assert response.status_code < 500, (api.resource_name, what, response.data)
                for key, value in _texts_of(response).items():
                    if _english_words(value, allowed):
                        problems.add(f"{api.resource_name} {what} {key}: {value!r:.200}")
    assert not problems, "\n".join(sorted(problems)[:60])


def test_a_refused_request_is_refused_in_chinese(app, world, api_token):
    client = app.test_client()
    # A wrong password, no token at all, a forged one, and a user without the permission.
    answers = [
        client.post(
            "/api/v1/security/login",
            json={"username": "admin", "password": "wrong", "provider": "db"},
        ),
        client.get("/api/v1/plan/"),
        client.get("/api/v1/plan/", headers={"Authorization": "Bearer abc"}),
        client.post(
            "/api/v1/department/",
            json={"name": "某科", "code": "X"},
            headers={"Authorization": f"Bearer {api_token('inspector_a')}"},
        ),
    ]
    assert answers[0].get_json() == {"message": "用户名或密码错误。"}
    for response in answers:
        assert response.status_code in (401, 403, 422), response.get_data()
        body = response.get_json()
        assert not _english_words(body, set()), body


def test_a_deletion_is_confirmed_in_chinese(app, world, api_token):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token('admin')}"}
    holiday = {"date": "2030-10-01", "name": "国庆节", "is_workday": False}
    response = client.post("/api/v1/holiday/", json=holiday, headers=headers)
    assert response.status_code == 201, response.get_json()
    response = client.delete(f"/api/v1/holiday/{response.get_json()['id']}", headers=headers)
    assert response.get_json() == {"message": "已删除。"}


def test_english_stays_available(app, world, login_as):
    client = login_as("operator_a")
    assert client.get("/lang/en").status_code == 302
    body = client.get("/api/v1/plan/999999999").get_json()
    assert body == {"message": "Not found"}
    info = client.get("/api/v1/plan/_info").get_json()
    assert info["add_columns"][0]["label"] == "Plan"
    labels = client.get("/api/v1/plan/?q=(page_size:1)").get_json()["label_columns"]
    assert labels["department.name"] == "Department Name"
    client.get("/lang/zh")
    labels = client.get("/api/v1/plan/?q=(page_size:1)").get_json()["label_columns"]
    assert labels["department.name"] == "部门名称"
    assert (
        client.get("/api/v1/plan/999999999").get_json()["message"] == "未找到该记录，或您无权查看。"
    )


# A Python object's repr, as FAB writes a field's validators into `_info` ("<Length(min=None,
# max=60, equal=None, error=None)>"): program text, never shown.
PROGRAM_TEXT = re.compile(r"<\w+\(|\w+=None\b")


def test_no_info_shows_program_text(app, world, api_token):
    """Every resource's `_info` (add and edit fields' `validate` included) for every user who
    may read it: no validator's repr; what it says of a field's length is Chinese."""
    client = app.test_client()
    tokens = {username: api_token(username) for username in USERS}
    problems, said = [], set()
    for api in _resources(app):
        for headers in _readers(client, api, tokens):
            response = client.get(f"/api/v1/{api.resource_name}/_info", headers=headers)
            text = response.get_data(as_text=True)
            if PROGRAM_TEXT.search(text) or "<Length(" in text:
                problems.append(f"{api.resource_name}: {PROGRAM_TEXT.search(text)}")
            body = response.get_json()
            for key in ("add_columns", "edit_columns"):
                for field in body.get(key) or []:
                    said.update(field.get("validate") or [])
    assert not problems, "\n".join(problems)
    assert "最多 60 个字符。" in said
    assert all(not _english_words(text, set()) for text in said), sorted(said)
