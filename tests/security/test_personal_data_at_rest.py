"""Personal data at rest (issue 20, part 5): citizen ID numbers and phones are stored encrypted
(AES-256-GCM, app/core/personal_data.py) whichever path writes them (ORM, page form, REST, the
import by CLI and its COPY on PostgreSQL, the migration), with a keyed blind index that keeps
the unique check and exact lookups working; a tampered value fails; keys rotate; production
refuses to start without its keys."""

from __future__ import annotations

import base64
import datetime as dt
import io
import secrets

import pytest
from flask import g
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.core import personal_data
from app.core.audit.models import AuditLog
from app.core.personal_data import DecryptionError, Keyring
from app.directory import services
from app.directory.models import Inspector, Target
from app.extensions import db
from tests.conftest import csrf_token_from
from tests.directory import conftest as directory_fixtures
from tests.directory.conftest import acting, citizen_id

directory = directory_fixtures.directory  # the fixture
FAR = (dt.date.today() + dt.timedelta(days=300)).isoformat()
PLAIN = ("13847701234", "13912345678", citizen_id(1))


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def raw(table: str, columns: str = "*") -> list[dict]:
    """The stored rows, read with plain SQL (no column type decrypts them)."""
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f"SELECT {columns} FROM {table}"))]


def assert_no_plain(app, *values):
    """No stored column of inspector or target holds any of `values`, and every personal
    column that is set is an encrypted value with its blind index."""
    with app.app_context():
        for table, columns in personal_data.ENCRYPTED_TABLES.items():
            for row in raw(table):
                text_of_row = " ".join(str(v) for v in row.values())
                for value in values:
                    assert value not in text_of_row, (table, value)
                for column in columns:
                    if row[column] is not None:
                        assert personal_data.is_encrypted(row[column]), (table, column)
                        assert len(row[f"{column}_bidx"]) == 32


# --- the primitive ----------------------------------------------------------------------------


def test_encrypt_round_trip_fresh_nonce_and_column_binding():
    ring = Keyring(f"a1:{_key()}", _key())
    one, two = (
        ring.encrypt(PLAIN[2], "target.id_number"),
        ring.encrypt(PLAIN[2], "target.id_number"),
    )
    assert one != two and one.startswith("v1:a1:") and PLAIN[2] not in one
    assert ring.decrypt(one, "target.id_number") == PLAIN[2]
    # Copied into another column it does not decrypt (associated data).
    with pytest.raises(DecryptionError):
        ring.decrypt(one, "inspector.id_number")
    # Under a key that is not configured it does not either.
    with pytest.raises(DecryptionError):
        Keyring(f"a2:{_key()}", _key()).decrypt(one, "target.id_number")


def test_a_tampered_value_fails_its_authentication():
    ring = Keyring(f"a1:{_key()}", _key())
    stored = ring.encrypt(PLAIN[0], "inspector.phone")
    head, body = stored.rsplit(":", 1)
    raw_bytes = bytearray(base64.b64decode(body))
    raw_bytes[14] ^= 0x01
    with pytest.raises(DecryptionError):
        ring.decrypt(f"{head}:{base64.b64encode(bytes(raw_bytes)).decode()}", "inspector.phone")
    with pytest.raises(DecryptionError):
        ring.decrypt(PLAIN[0], "inspector.phone")  # a plain value is not one of ours


def test_the_blind_index_is_keyed_normalised_and_per_column():
    key = _key()
    ring = Keyring(f"a1:{_key()}", key)
    index = ring.blind_index("15060219800101001x", "target.id_number")
    assert len(index) == 32 and index == ring.blind_index(" 15060219800101001X", "target.id_number")
    assert index != ring.blind_index("15060219800101001X", "inspector.id_number")
    assert index != Keyring(f"a1:{_key()}", _key()).blind_index(
        "15060219800101001X", "target.id_number"
    )


def test_malformed_keys_are_refused():
    with pytest.raises(personal_data.DataKeyError):
        personal_data.parse_data_keys("a1:" + base64.b64encode(b"short").decode())
    with pytest.raises(personal_data.DataKeyError):
        personal_data.parse_data_keys(f"a1:{_key()},a1:{_key()}")
    with pytest.raises(personal_data.DataKeyError):
        personal_data.parse_blind_index_key("")


# --- what is stored, whichever path writes -----------------------------------------------------


def test_orm_writes_store_no_plain_value_and_read_back_plain(app, directory):
    assert_no_plain(app, *PLAIN)
    with app.app_context():
        inspector = db.session.get(Inspector, directory.inspector_a)
        assert (inspector.phone, inspector.id_number) == (PLAIN[0], PLAIN[2])
        assert db.session.get(Target, directory.target_a).contact_phone == PLAIN[1]


def test_the_audit_log_keeps_the_personal_fields_masked(app, directory):
    with app.app_context():
        changes = " ".join(
            row.changes or ""
            for row in db.session.scalars(
                select(AuditLog).where(AuditLog.object_type.in_(["inspector", "target"]))
            )
        )
        assert "138****1234" in changes and "1506**********" in changes
        for value in PLAIN:
            assert value not in changes
        assert "_bidx" not in changes


def test_the_page_form_stores_encrypted(app, login_as, world, directory):
    client = login_as("operator_a")
    response = client.post(
        "/targets/add",
        data={
            "csrf_token": csrf_token_from(client, "/targets/add"),
            "target_type": "自然人",
            "name": "赵六",
            "id_number": citizen_id(21),
            "contact_phone": "13700001111",
            "registration_status": "存续",
            "risk_class": "B",
            "department": world.dept_a,
        },
    )
    assert response.status_code == 302
    assert_no_plain(app, citizen_id(21), "13700001111")
    with acting(app, "operator_a"):
        person = db.session.scalar(select(Target).where(Target.name == "赵六"))
        assert (person.id_number, person.contact_phone) == (citizen_id(21), "13700001111")
    # The page shows it masked, as before.
    page = client.get(f"/targets/show/{person.id}").get_data(as_text=True)
    assert citizen_id(21) not in page and "1506**********" in page


def test_rest_stores_encrypted_and_the_unique_check_names_the_holder(
    app, client, world, api_token, directory
):
    headers = {"Authorization": f"Bearer {api_token('operator_a')}"}
    body = dict(
        name="新来的检查员",
        department=world.dept_a,
        certificate_no="C-NEW-7",
        certificate_expiry=FAR,
        status="在岗",
        phone="13600002222",
        id_number=citizen_id(22),
    )
    assert client.post("/api/v1/inspector/", json=body, headers=headers).status_code == 201
    assert_no_plain(app, citizen_id(22), "13600002222")
    # The same ID number again (another spelling of the check character's case would be too):
    # refused by the blind index, in Chinese, naming the holder in the user's scope.
    body.update(certificate_no="C-NEW-8", id_number=PLAIN[2])
    response = client.post("/api/v1/inspector/", json=body, headers=headers)
    assert response.status_code == 422
    assert "王建国" in response.get_json()["message"]
    assert "已" in response.get_json()["message"]


def test_the_database_refuses_a_second_inspector_with_the_same_id_number(app, world, directory):
    with acting(app, "operator_a"):
        twin = Inspector(
            name="重复",
            department_id=world.dept_a,
            certificate_no="C-A-TWIN",
            certificate_expiry=dt.date.today() + dt.timedelta(days=30),
            status="在岗",
            id_number=PLAIN[2],
        )
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_exact_lookups_use_the_blind_index_and_ciphertext_is_not_compared(app, world, directory):
    with acting(app, "operator_a"):
        index = personal_data.blind_index(PLAIN[2], "inspector.id_number")
        found = db.session.scalar(select(Inspector.name).where(Inspector.id_number_bidx == index))
        assert found == "王建国"
        # A live natural person's ID number is unique among live targets (services).
        first = Target(
            department_id=world.dept_a,
            target_type="自然人",
            name="钱七",
            id_number=citizen_id(23),
            registration_status="存续",
            risk_class="B",
        )
        services.check_target(first)
        db.session.add(first)
        db.session.flush()
        second = Target(
            department_id=world.dept_a,
            target_type="自然人",
            name="钱七（重复）",
            id_number=citizen_id(23),
            registration_status="存续",
            risk_class="B",
        )
        from app.core.errors import DomainError

        with pytest.raises(DomainError, match="钱七"):
            services.check_target(second)
        db.session.rollback()
        # Comparing the encrypted column itself would silently match nothing: refused.
        with pytest.raises(TypeError):
            select(Inspector).where(Inspector.id_number == PLAIN[2])
        with pytest.raises(TypeError):
            select(Target).where(Target.contact_phone.contains("1391"))
        assert select(Inspector).where(Inspector.phone.is_(None)) is not None


# --- the import ---------------------------------------------------------------------------------


def _csv(header, rows) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_the_import_cli_stores_encrypted_and_finds_duplicates(app, world, directory, tmp_path):
    """On PostgreSQL the targets go in by the COPY that runs while the file is checked and the
    inspectors by the COPY of pass 2: both encrypt."""
    from app.directory.imports import INSPECTOR_COLUMNS, TARGET_COLUMNS

    target_header = [c.header for c in TARGET_COLUMNS]
    people = []
    for n in range(30, 35):
        row = {
            "检查对象类型": "自然人",
            "名称": f"自然人{n}",
            "公民身份号码": citizen_id(n),
            "联系电话": f"135000000{n}",
            "登记状态": "存续",
            "信用风险等级": "B",
            "主管部门": "A",
        }
        people.append([row.get(h, "") for h in target_header])
    path = tmp_path / "people.csv"
    path.write_bytes(_csv(target_header, people))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "targets", str(path)])
    assert result.exit_code == 0, result.output
    inspector_header = [c.header for c in INSPECTOR_COLUMNS]
    row = {
        "姓名": "导入的检查员",
        "所属部门": "A",
        "执法证号": "NM-77777",
        "执法证有效期至": FAR,
        "状态": "在岗",
        "联系电话": "13300003333",
        "公民身份号码": citizen_id(40),
    }
    inspectors = tmp_path / "inspectors.csv"
    inspectors.write_bytes(_csv(inspector_header, [[row.get(h, "") for h in inspector_header]]))
    result = runner.invoke(args=["import", "inspectors", str(inspectors)])
    assert result.exit_code == 0, result.output
    assert_no_plain(
        app, *(citizen_id(n) for n in range(30, 35)), "13500000030", citizen_id(40), "13300003333"
    )
    with app.app_context():
        names = db.session.scalars(
            select(Target.id_number).where(Target.name.like("自然人%")).order_by(Target.name)
        ).all()
        assert names == [citizen_id(n) for n in range(30, 35)]
    # The same people again, one with a new phone: updated (keyed by the blind index of the
    # ID number), nothing created, the phone's index follows it.
    people[0][target_header.index("联系电话")] = "13500000099"
    path.write_bytes(_csv(target_header, people))
    result = runner.invoke(args=["import", "targets", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(db.func.count()).select_from(Target).where(Target.name.like("自然人%"))
            )
            == 5
        )
        moved = db.session.scalar(select(Target).where(Target.name == "自然人30"))
        assert moved.contact_phone == "13500000099"
        assert moved.contact_phone_bidx == personal_data.blind_index(
            "13500000099", "target.contact_phone"
        )
    assert_no_plain(app, "13500000099")
    # An inspector with 王建国's ID number is refused, naming him.
    row.update({"执法证号": "NM-77778", "公民身份号码": PLAIN[2]})
    inspectors.write_bytes(_csv(inspector_header, [[row.get(h, "") for h in inspector_header]]))
    result = runner.invoke(args=["import", "inspectors", str(inspectors), "--user", "operator_a"])
    assert result.exit_code == 1 and "王建国" in result.stderr


# --- the migration --------------------------------------------------------------------------------


def test_the_migration_encrypts_plain_rows_and_its_downgrade_decrypts(app, world, directory):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        db.session.remove()
        try:
            downgrade(revision="0025_audit_review")
            rows = {r["id"]: r for r in raw("inspector", "id, phone, id_number")}
            assert rows[directory.inspector_a]["phone"] == PLAIN[0]
            assert rows[directory.inspector_a]["id_number"] == PLAIN[2]
            # A plain row written before the upgrade, as an old installation holds them.
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE target SET target_type = '自然人', id_number = :n, "
                        "contact_phone = :p WHERE id = :id"
                    ),
                    {"n": citizen_id(50), "p": "13200005555", "id": directory.target_b},
                )
        finally:
            upgrade()
        db.session.remove()
    assert_no_plain(app, *PLAIN, citizen_id(50), "13200005555")
    with app.app_context():
        target = db.session.get(Target, directory.target_b)
        assert (target.id_number, target.contact_phone) == (citizen_id(50), "13200005555")
        index = personal_data.blind_index(citizen_id(50), "target.id_number")
        assert raw("target", "id_number_bidx").count({"id_number_bidx": index}) == 1


# --- rotation -----------------------------------------------------------------------------------


def test_rotation_reencrypts_under_the_new_key_and_reindexes(app, world, directory):
    runner = app.test_cli_runner()
    old = app.extensions["personal_data"]
    old_keys, old_blind = app.config["DATA_KEYS"], app.config["BLIND_INDEX_KEY"]
    try:
        new_blind = _key()
        app.extensions["personal_data"] = Keyring(f"r2:{_key()},{old_keys}", new_blind)
        result = runner.invoke(args=["security", "rotate-data-key", "--batch-size", "1"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            for table, columns in personal_data.ENCRYPTED_TABLES.items():
                for row in raw(table):
                    for column in columns:
                        if row[column] is not None:
                            assert personal_data.key_id_of(row[column]) == "r2"
            inspector = db.session.get(Inspector, directory.inspector_a)
            assert inspector.id_number == PLAIN[2]
            assert inspector.id_number_bidx == personal_data.blind_index(
                PLAIN[2], "inspector.id_number"
            )
            event = db.session.scalars(
                select(AuditLog).where(AuditLog.action == "rotate_data_key")
            ).one()
            assert '"key":"r2"' in event.detail and '"inspector":1' in event.detail
        # Again: nothing is left to do.
        result = runner.invoke(args=["security", "rotate-data-key"])
        assert result.exit_code == 0 and "inspector 0 行" in result.output
        # The unique check still finds the holder under the new index key.
        with acting(app, "operator_a"):
            g.user = app.appbuilder.sm.find_user(username="operator_a")
            twin = Inspector(
                name="重复",
                department_id=world.dept_a,
                certificate_no="C-A-TWIN",
                certificate_expiry=dt.date.today() + dt.timedelta(days=30),
                status="在岗",
                id_number=PLAIN[2],
            )
            from app.core.errors import DomainError

            with pytest.raises(DomainError, match="王建国"):
                services.check_inspector(twin)
            db.session.rollback()
    finally:
        app.extensions["personal_data"] = old
        with app.app_context():
            # Back under the suite's keys for the tests that follow.
            result = runner.invoke(args=["security", "rotate-data-key"])
        assert (app.config["DATA_KEYS"], app.config["BLIND_INDEX_KEY"]) == (old_keys, old_blind)


# --- the keys -------------------------------------------------------------------------------------


def test_production_refuses_to_start_without_the_keys(monkeypatch, tmp_path):
    import config
    from app import create_app

    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.delenv("DSR_BLIND_INDEX_KEY", raising=False)
    with pytest.raises(RuntimeError, match="DSR_BLIND_INDEX_KEY"):
        config.load_data_keys(tmp_path)
    monkeypatch.delenv("DSR_DATA_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="DSR_DATA_KEYS and DSR_BLIND_INDEX_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert not (tmp_path / config.DATA_KEYS_FILE).exists()


def test_development_generates_a_key_file_once(monkeypatch, tmp_path):
    import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DSR_DATA_KEYS", raising=False)
    monkeypatch.delenv("DSR_BLIND_INDEX_KEY", raising=False)
    first = config.load_data_keys(tmp_path)
    assert first == config.load_data_keys(tmp_path)
    key_file = tmp_path / config.DATA_KEYS_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first[0].startswith("dev1:")
    Keyring(*first)  # usable


def test_new_data_keys_prints_usable_keys(app):
    result = app.test_cli_runner().invoke(args=["security", "new-data-keys", "--kid", "k9"])
    assert result.exit_code == 0
    lines = dict(line.split("=", 1) for line in result.output.split())
    Keyring(lines["DSR_DATA_KEYS"], lines["DSR_BLIND_INDEX_KEY"])
    assert lines["DSR_DATA_KEYS"].startswith("k9:")
