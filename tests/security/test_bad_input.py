"""Bad input gets a clear Chinese error and writes nothing; SQL metacharacters are plain text;
values too long for their column or dates out of range are refused, never a 500."""

import pytest
from sqlalchemy import func, select

from app.directory.models import Target
from app.extensions import db
from app.planning.models import AnnualPlan
from tests.directory.conftest import directory, uscc  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Target.id)))


def _target(world, **overrides):
    body = {
        "target_type": "企业",
        "name": "东胜区坏输入测试有限公司",
        "uscc": uscc(950),
        "risk_class": "B",
        "registration_status": "存续",
        "department": world.dept_a,
    }
    body.update(overrides)
    return body


def test_bad_input_is_refused_in_chinese_and_writes_nothing(app, world, login_as):
    operator = login_as("operator_a")
    before = _count(app)
    bad_check_digit = uscc(951)[:-1] + ("0" if uscc(951)[-1] != "0" else "1")
    cases = [
        _target(world, uscc=bad_check_digit),  # GB 32100 check digit
        _target(world, uscc="<script>"),
        _target(world, name="名" * 5000),  # longer than the column
        _target(world, last_inspected_on="0000-13-45"),
        _target(world, last_inspected_on="9999-12-31"),  # in the future
        _target(world, risk_class="Z"),
        _target(world, department=10**30),
        _target(world, items="1; DROP TABLE target"),
        _target(world, name="东胜\x00有限公司"),  # PostgreSQL refuses NUL in text
        _target(world, legal_representative="王\x07建国"),
    ]
    for body in cases:
        response = operator.post("/api/v1/target/", json=body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
        message = str(response.get_json().get("message"))
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message) or response.status_code == 400, (
            body,
            message,
        )
    assert _count(app) == before
    # SQL metacharacters are text like any other.
    name = "东胜区'; DROP TABLE target; --\" OR 1=1 有限公司"
    response = operator.post("/api/v1/target/", json=_target(world, name=name))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.get(Target, response.get_json()["id"]).name == name
    assert _count(app) == before + 1
    found = operator.get("/api/v1/target/", query_string={"q": '{"filters":[]}'})
    assert found.status_code == 200


def test_ids_beyond_the_id_columns_never_reach_the_database(app, world, login_as, api_token):
    """Row ids are 32-bit INTEGER columns; PostgreSQL refuses to compare one with a larger
    number (a 500 before). In a path such an id is a 404; as a filter on a related row it (or
    a value that is no number) names no row, as a missing id does: nothing is found."""
    big = "99999999999"
    operator = login_as("operator_a")
    for url in (f"/targets/show/{big}", f"/targets/edit/{big}", "/targets/show/2147483648"):
        assert operator.get(url).status_code == 404, url
    for value in (big, "abc", "-1"):
        listing = operator.get(f"/targets/list/?_flt_0_department={value}")
        assert listing.status_code == 200, value
        assert "没有找到记录" in listing.get_data(as_text=True), value
    assert login_as("secadmin").get(f"/users/list/?_flt_0_roles={big}").status_code == 200
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    assert client.get("/api/v1/target/2147483648", headers=headers).status_code == 404
    for column in ("department", "area"):
        response = client.get(
            f"/api/v1/target/?q=(filters:!((col:{column},opr:rel_o_m,value:{big})))",
            headers=headers,
        )
        assert response.status_code == 200, column
        assert response.get_json()["count"] == 0


def test_page_numbers_out_of_range_are_clamped(app, world, api_token):
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    for page in (-33159388, 10**15):
        response = client.get(f"/api/v1/target/?q=(page:{page},page_size:10)", headers=headers)
        assert response.status_code == 200, page


def test_paging_and_sorting_arguments_of_the_pages(app, world, login_as):
    """FAB's paging and sorting arguments come from the URL: a word, a negative number or an
    unknown column was a 500 (a negative OFFSET on PostgreSQL, an unknown ORDER BY)."""
    operator = login_as("operator_a")
    refused = ["page_TargetView=-5", "page_TargetView=abc", "psize_TargetView=0"]
    refused += ["psize_TargetView=101", f"page_TargetView={10**20}"]
    for query in refused:
        response = operator.get(f"/targets/list/?{query}")
        assert response.status_code == 400, query
        assert "请求无法识别" in response.get_data(as_text=True), query
    accepted = ["page_TargetView=3&psize_TargetView=100", "_oc_TargetView=name&_od_TargetView=up"]
    accepted += ["_oc_TargetView=nonexistent&_od_TargetView=asc"]  # sorted as by default
    for query in accepted:
        assert operator.get(f"/targets/list/?{query}").status_code == 200, query


def test_search_filters_typed_into_the_url(
    app, world, directory, plan, login_as, api_token  # noqa: F811
):
    """A filter the column does not have, a number beyond an INTEGER column or a word for it,
    a month count past any date: ignored or kept in range, never a 500, on pages and in the
    REST API alike; real filters work."""
    operator = login_as("operator_a")
    with app.app_context():
        year = db.session.get(AnnualPlan, plan).year
    for query in ("_flt_9_name=x", "_flt_0_year=abc", f"_flt_0_year=-{10**14}"):
        assert operator.get(f"/plans/list/?{query}").status_code == 200, query
    assert f"/plans/show/{plan}" in operator.get(f"/plans/list/?_flt_0_year={year}").get_data(
        as_text=True
    )
    assert f"/plans/show/{plan}" not in operator.get(
        f"/plans/list/?_flt_0_year={year + 1}"
    ).get_data(as_text=True)
    for query in (f"_flt_0_last_inspected_on={10**11}", f"_flt_1_last_inspected_on=-{10**11}"):
        assert operator.get(f"/targets/list/?{query}").status_code == 200, query
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    client = app.test_client()
    for opr, value in (("eq", 10**11), ("gt", -(10**14)), ("eq", year)):
        response = client.get(
            f"/api/v1/plan/?q=(filters:!((col:year,opr:{opr},value:{value})))", headers=headers
        )
        assert response.status_code == 200, (opr, value)
        assert response.get_json()["count"] == (0 if value == 10**11 else 1), (opr, value)


def test_a_yes_no_search_filter_ticked_and_unticked(app, world, login_as):
    """FAB passed an unticked box on as text, which PostgreSQL refuses to compare with a
    boolean column (a 500); ticked means yes, unticked no."""
    from app.security.models import Department
    from app.security.system_user import acting_as_system

    with app.app_context(), acting_as_system():
        db.session.add(Department(code="OLD", name="已撤销的科室", kind="section", active=False))
        db.session.commit()
    admin = login_as("admin")
    ticked = admin.get("/departments/list/?_flt_0_active=y").get_data(as_text=True)
    unticked = admin.get("/departments/list/?_flt_0_active=").get_data(as_text=True)
    assert "河湖管理科" in ticked and "已撤销的科室" not in ticked
    assert "已撤销的科室" in unticked and "河湖管理科" not in unticked


def test_whole_numbers_in_page_forms_and_years_in_public_urls(app, world, client):
    from app.core.errors import DomainError
    from app.security.base_views import form_integer

    for typed, expected in (("", 2), (" 3 ", 3), ("-1", -1)):
        with app.test_request_context(method="POST", data={"group_size": typed}):
            assert form_integer("group_size", 2, "每组检查人员数") == expected
    for typed in ("abc", "1.5", "99999999999"):
        with app.test_request_context(method="POST", data={"group_size": typed}):
            with pytest.raises(DomainError):
                form_integer("group_size", 2, "每组检查人员数")
    # A year no plan has, beyond the column's range too: the page, not a 500.
    for year in ("99999999999", "-1", "abc"):
        assert client.get(f"/public/plans?year={year}").status_code == 200, year


def test_deeply_nested_json_is_a_400_in_chinese(app, world, api_token):
    """Issue 15, finding 12: Python's json parser recurses per level (RecursionError, a 500)."""
    client = app.test_client()
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/security/login", "/api/v1/target/"):
        response = client.post(path, data=deep, content_type="application/json")
        assert response.status_code == 400, path
        assert "嵌套" in response.get_json()["message"]
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    # Deep, but not deep enough for the parser to fail: refused all the same.
    body = '{"name": ' + "[" * 500 + "]" * 500 + "}"
    response = client.post(
        "/api/v1/target/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert "嵌套" in response.get_json()["message"]
    assert _count(app) == 0
    # The REST API's Rison argument q: prison recurses the same way (a 500 before).
    for q in ("!(" * 5000 + ")" * 5000, "(a:" * 40 + "1" + ")" * 40):
        response = client.get("/api/v1/target/", query_string={"q": q}, headers=headers)
        assert response.status_code == 400, q[:10]
        assert "嵌套" in response.get_json()["message"]
    assert client.get("/api/v1/target/", query_string={"q": "(page:0)"}, headers=headers).status_code == 200
