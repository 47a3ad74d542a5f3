"""Bad input gets a clear Chinese error and writes nothing; SQL metacharacters are plain text;
values too long for their column or dates out of range are refused, never a 500."""

from sqlalchemy import func, select

from app.directory.models import Target
from app.extensions import db
from tests.directory.conftest import uscc


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
