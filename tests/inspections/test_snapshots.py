"""Published and archived results keep what they published (issue 15, finding 8): the target's
name and code are kept with the inspection record as entered, and the archive bundle, the public
results (pages and downloads), the public credit record and the summary report print those. A
rename in the directory afterwards changes none of them; the staff directory shows the new name.
Also finding 9: the bundle's records.csv neutralises formula cells and still verifies."""

import csv
import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select

from app.directory.models import NATURAL_PERSON, Target
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionRecord, InspectionSummary
from app.planning.models import SpotCheckTask
from tests.conftest import csrf_token_from
from tests.directory.conftest import acting
from tests.inspections.conftest import enter_all, fill, finish

FORMULA = "@SUM(1+1)*cmd|' /C calc'!A0"


def _targets(app, inspected) -> list[int]:
    with app.app_context():
        return [db.session.get(DrawnTarget, i).target_id for i in inspected.drawn]


def _rename(app, target_id: int, name: str, **more) -> None:
    with acting(app, "operator_a"):
        target = db.session.get(Target, target_id)
        target.name = name
        for key, value in more.items():
            setattr(target, key, value)
        db.session.commit()


def _archive(app, inspected, login_as):
    finish(app, inspected)
    client = login_as("operator_a")
    token = csrf_token_from(client, f"/tasks/show/{inspected.task}")
    response = client.post(
        f"/task-results/{inspected.task}/archive", data={"csrf_token": token, "confirm": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SpotCheckTask, inspected.task).status == "archived"
    return client


def _bundle(client, task_id) -> bytes:
    response = client.get(f"/task-results/{task_id}/bundle.zip")
    assert response.status_code == 200
    return response.data


def _files(bundle: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    return {entry["path"]: entry["sha256"] for entry in manifest["files"]}


def _read(bundle: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return archive.read(name)


def _public(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.data


def test_renaming_a_target_after_archiving_changes_no_bundle_and_no_public_page(
    app, inspected, login_as, client
):
    person_id, company_id = _targets(app, inspected)
    _rename(
        app,
        person_id,
        "欧阳娜娜",
        target_type=NATURAL_PERSON,
        uscc=None,
        id_number="150602199001011234",
    )
    _rename(app, company_id, "东胜区旧名水务有限公司")
    with app.app_context():
        company_uscc = db.session.get(Target, company_id).uscc
        number = db.session.get(SpotCheckTask, inspected.task).number
    staff = _archive(app, inspected, login_as)
    with app.app_context():
        summary_id = db.session.scalar(select(InspectionSummary.id))
    task = inspected.task
    urls = [
        "/public/results",
        "/public/results?format=csv",
        "/public/results?format=csv&encoding=gb18030",
        f"/public/results/{task}",
        f"/public/results/{task}?format=csv",
        f"/public/results?q={company_uscc}",
        "/public/results?q=旧名",
        f"/public/credit/{company_id}",
        f"/public/credit/{person_id}",
    ]
    before_pages = {url: _public(client, url) for url in urls}
    before_bundle = _bundle(staff, task)
    before_print = staff.get(f"/summary-workflow/{summary_id}/print").get_data(as_text=True)
    assert "东胜区旧名水务有限公司" in before_pages[f"/public/results/{task}"].decode()
    assert "东胜区旧名水务有限公司" in before_print

    # The directory changes afterwards: a new name, another code, another address.
    _rename(app, company_id, "东胜区新名水务有限公司", address="新地址1号")
    _rename(app, person_id, "欧阳新名", id_number="150602199202021236")

    after_bundle = _bundle(staff, task)
    assert _files(after_bundle) == _files(before_bundle)  # every file, same SHA-256
    for name in ("records.csv", "records.json", "summary.docx"):
        assert _read(after_bundle, name) == _read(before_bundle, name), name
    records_csv = _read(after_bundle, "records.csv").decode("utf-8-sig")
    assert "东胜区旧名水务有限公司" in records_csv and "新名" not in records_csv
    assert "150602199001011234" not in records_csv  # a snapshot never holds a full ID number
    for url in urls:
        assert _public(client, url) == before_pages[url], url
    # The public searches what was published.
    assert number not in client.get("/public/results?q=新名").get_data(as_text=True)
    assert number in before_pages["/public/results?q=旧名"].decode()
    page = staff.get(f"/summary-workflow/{summary_id}/print").get_data(as_text=True)
    assert "东胜区旧名水务有限公司" in page and "东胜区新名水务有限公司" not in page
    # The staff directory shows the target as it is now.
    response = staff.get(f"/api/v1/target/{company_id}")
    assert response.status_code == 200
    assert response.get_json()["result"]["name"] == "东胜区新名水务有限公司"


def test_the_bundle_neutralises_formula_cells_and_still_verifies(
    app, inspected, login_as, tmp_path
):
    _rename(app, _targets(app, inspected)[1], '=HYPERLINK("http://x")水务公司')
    enter_all(app, inspected, situation=FORMULA, problems="+1+1", opinions="-2+3")
    staff = _archive(app, inspected, login_as)
    bundle = _bundle(staff, inspected.task)
    rows = list(csv.reader(io.StringIO(_read(bundle, "records.csv").decode("utf-8-sig"))))
    assert rows[0][0] == "检查对象" and len(rows) == 3
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA in cells and "'+1+1" in cells and "'-2+3" in cells
    assert '\'=HYPERLINK("http://x")水务公司' in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # The JSON keeps the text as entered.
    records = json.loads(_read(bundle, "records.json"))
    assert {r["situation"] for r in records} == {FORMULA}
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    result = app.test_cli_runner().invoke(args=["archive", "verify", str(path)])
    assert result.exit_code == 0 and result.output.startswith("VALID"), result.output


def test_the_record_keeps_the_target_as_entered(app, inspected):
    """Taken when the record is opened, refreshed at every save while it is being entered,
    frozen from its submission on."""
    target_id = _targets(app, inspected)[0]
    with acting(app, "inspector_a"):
        record = services.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        db.session.commit()
        record_id = record.id
        assert record.target_name == record.target.name
    _rename(app, target_id, "录入时的名称", address="录入时的地址")
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, record_id)
        fill(record, inspected.item)
        services.submit_record(record)
        db.session.commit()
    _rename(app, target_id, "提交后的名称", address="提交后的地址")
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, record_id)
        services.review_record(record)
        db.session.commit()
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        assert (record.target_name, record.target_address) == ("录入时的名称", "录入时的地址")
        assert record.target_code == db.session.get(Target, target_id).uscc
        assert record.target.name == "提交后的名称"


def test_the_migration_fills_existing_rows_from_the_target(app, inspected):
    """Migration 0011 backfills the snapshot of rows that existed before it: from the target
    as it is, a natural person's ID number masked; unpublished listings wait for publication."""
    import importlib.util

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import text

    from app.credit.models import BlacklistEntry
    from tests.credit.test_draw_and_public import _list

    person_id, company_id = _targets(app, inspected)
    _rename(
        app,
        person_id,
        "欧阳娜娜",
        target_type=NATURAL_PERSON,
        uscc=None,
        id_number="150602199001011234",
        address="某街1号",
    )
    enter_all(app, inspected)
    published = _list(app, company_id)
    waiting = _list(app, person_id, published=False, status="proposed")
    path = next(Path(__file__).parents[2].glob("migrations/versions/0011_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        # What the rows held before the migration: no snapshot.
        for table, empty in (("inspection_record", "''"), ("blacklist_entry", "NULL")):
            db.session.execute(
                text(
                    f"UPDATE {table} SET target_name = {empty}, target_type = {empty}, "
                    "target_code = NULL, target_address = NULL"
                )
            )
        # 0011 ran before the ID numbers were encrypted (0026): it reads them plain.
        encrypted = db.session.execute(
            text("SELECT id_number FROM target WHERE id = :id"), {"id": person_id}
        ).scalar()
        db.session.commit()  # (MariaDB: no snapshot older than the backfill is kept open)
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            conn.execute(
                text("UPDATE target SET id_number = :n WHERE id = :id"),
                {"n": "150602199001011234", "id": person_id},
            )
            migration._backfill("inspection_record", "1 = 1")
            migration._backfill("blacklist_entry", "r.published_on IS NOT NULL")
            conn.execute(
                text("UPDATE target SET id_number = :n WHERE id = :id"),
                {"n": encrypted, "id": person_id},
            )
        db.session.expire_all()
        by_target = {
            r.target_id: (r.target_name, r.target_type, r.target_code, r.target_address)
            for r in db.session.scalars(select(InspectionRecord))
        }
        company = db.session.get(Target, company_id)
        assert by_target == {
            person_id: ("欧阳娜娜", NATURAL_PERSON, "1506**********1234", "某街1号"),
            company_id: (company.name, "企业", company.uscc, None),
        }
        assert db.session.get(BlacklistEntry, published).target_name == company.name
        assert db.session.get(BlacklistEntry, waiting).target_name is None
