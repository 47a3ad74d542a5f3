"""The large exports give the same bytes whichever writer writes them (issue 18): on PostgreSQL
the database writes the rows (COPY, app/core/csvfile.copy_chunks), elsewhere the Python writer
(csv_chunks) from a server-side cursor. On every database the file is compared with a reference
written out by hand; on PostgreSQL the two writers are also compared with each other, for the
tricky rows below and for arbitrary ones (hypothesis): masking, neutralising (= + - @ tab CR),
quotes, commas, line breaks in cells, NULLs, dates, natural persons, characters outside the BMP
and outside GBK, UTF-8 with BOM and GB18030."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from app.core.csvfile import csv_chunks
from app.credit.models import BlacklistEntry
from app.directory.models import NATURAL_PERSON, Target
from app.disclosure import portal
from app.disclosure.cli import export_command
from app.extensions import db
from app.inspections.models import InspectionRecord
from app.planning.models import SpotCheckTask
from app.security.system_user import acting_as_system
from tests.core.test_csv_sql import _TEXT
from tests.inspections.conftest import finish

ORG = "企业"
D1, D2 = dt.date(2027, 6, 1), dt.date(1999, 1, 2)

# (name, type, code, basis, decision number, listed on, removed on, department attribute)
LISTINGS = [
    (
        '=HYPERLINK("http://x")水务公司',
        ORG,
        "91150602MA0N000001",
        "refused",
        "东水信〔2027〕1号",
        D1,
        None,
        "dept_a",
    ),
    ("+86,逗号,公司", ORG, None, "inadequate", None, D1, D2, "dept_b"),
    ("-1有限公司", ORG, "-2", "penalty", "@决定", D1, None, "bureau"),
    ("\t制表符公司", ORG, "\r1", "other", "\n换行", D1, None, "dept_a1"),
    ("多行\n名称\r\n公司", ORG, "", "refused", '"引号"', D1, None, "dept_a"),
    ("䶮𪚥水务😀有限公司", ORG, "91150602MA0N00000X", "refused", "東水信", D1, None, "dept_a"),
    ("欧阳娜娜", NATURAL_PERSON, "150602199001011234", "refused", "1", D2, D1, "dept_a"),
    (" John Smith ", NATURAL_PERSON, None, "refused", None, D2, None, "dept_a"),
    ("𠮷野家", NATURAL_PERSON, None, "refused", None, D2, None, "dept_a"),
    ("王", NATURAL_PERSON, None, "refused", None, D2, None, "dept_a"),
    ("阿依古丽·买买提", NATURAL_PERSON, None, "refused", None, D2, None, "dept_a"),
    ("", NATURAL_PERSON, None, "penalty", None, D2, None, "dept_a"),
]

# The file by hand (newest listing first, then the newest entry): the reference.
BLACKLIST_FILE = (
    "\ufeff序号,主体名称,统一社会信用代码,列入原因,决定文号,列入日期,列入机关,移出日期,承办科室\r\n"
    "1,䶮𪚥水务😀有限公司,91150602MA0N00000X,拒不整改,東水信,2027-06-01,东胜区水利局,,水资源管理科\r\n"
    '2,"多行\n名称\r\n公司",,拒不整改,"""引号""",2027-06-01,东胜区水利局,,水资源管理科\r\n'
    '3,\'\t制表符公司,"\'\r1",other,"\'\n换行",2027-06-01,东胜区水利局,,节约用水办公室\r\n'
    "4,'-1有限公司,'-2,受到行政处罚,'@决定,2027-06-01,东胜区水利局,,\r\n"
    '5,"\'+86,逗号,公司",,整改不到位,,2027-06-01,东胜区水利局,1999-01-02,河湖管理科\r\n'
    '6,"\'=HYPERLINK(""http://x"")水务公司",91150602MA0N000001,拒不整改,东水信〔2027〕1号,'
    "2027-06-01,东胜区水利局,,水资源管理科\r\n"
    "7,,,受到行政处罚,,1999-01-02,东胜区水利局,,水资源管理科\r\n"
    "8,阿***·***,,拒不整改,,1999-01-02,东胜区水利局,,水资源管理科\r\n"
    "9,*,,拒不整改,,1999-01-02,东胜区水利局,,水资源管理科\r\n"
    "10,𠮷**,,拒不整改,,1999-01-02,东胜区水利局,,水资源管理科\r\n"
    "11,J*** *****,,拒不整改,,1999-01-02,东胜区水利局,,水资源管理科\r\n"
    "12,欧阳**,,拒不整改,1,1999-01-02,东胜区水利局,2027-06-01,水资源管理科\r\n"
)


def _is_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def _list(app, world, listings) -> None:
    """Published listings of `listings`, with their targets (Core inserts, as the bench does)."""
    with app.app_context():
        db.session.execute(delete(BlacklistEntry))
        db.session.execute(delete(Target).where(Target.name.like("导出测试%")))
        db.session.commit()
        with acting_as_system() as system:
            user_id = system.id
        stamp = dt.datetime(2027, 6, 1, 9, 0)
        audit = {
            "created_on": stamp,
            "changed_on": stamp,
            "created_by_fk": user_id,
            "changed_by_fk": user_id,
        }
        with db.engine.begin() as conn:
            for i, (name, kind, code, basis, number, listed, removed, dept) in enumerate(
                listings, start=1
            ):
                department_id = getattr(world, dept)
                target_id = conn.execute(
                    insert(Target)
                    .values(
                        department_id=department_id,
                        target_type=kind,
                        name=f"导出测试{i}",
                        registration_status="存续",
                        risk_class="B",
                        listed_on=D1,
                        **audit,
                    )
                    .returning(Target.id)
                ).scalar_one()
                conn.execute(
                    insert(BlacklistEntry).values(
                        target_id=target_id,
                        department_id=department_id,
                        basis=basis,
                        status="removed" if removed else "listed",
                        origin="operator",
                        active_key=None if removed else str(target_id),
                        decision_number=number,
                        listed_on=listed,
                        period_months=36,
                        published_on=listed,
                        removed_on=removed,
                        target_name=name,
                        target_type=kind,
                        target_code=code,
                        **audit,
                    )
                )


def _http(app, url, copy: bool) -> bytes:
    app.config["CSV_COPY"] = copy
    try:
        response = app.test_client().get(url)
        assert response.status_code == 200, url
        return response.data
    finally:
        app.config.pop("CSV_COPY", None)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_the_blacklist_file_is_the_reference_on_every_database(app, world, encoding):
    _list(app, world, LISTINGS)
    url = f"/public/blacklist?format=csv&encoding={encoding}"
    expected = (
        BLACKLIST_FILE.encode("utf-8")
        if encoding == "utf-8"
        else (BLACKLIST_FILE[1:].encode("gb18030"))
    )
    assert _http(app, url, copy=False) == expected
    if _is_postgresql(app):
        assert _http(app, url, copy=True) == expected  # COPY writes it


def test_the_command_line_writes_the_same_file_both_ways(app, world, tmp_path):
    if not _is_postgresql(app):
        pytest.skip("the COPY path is PostgreSQL's")
    _list(app, world, LISTINGS)
    files = {}
    for copy in (True, False):
        app.config["CSV_COPY"] = copy
        out = tmp_path / f"{copy}.csv"
        result = app.test_cli_runner().invoke(
            export_command, ["blacklist", "--encoding", "gb18030", "-o", str(out)]
        )
        app.config.pop("CSV_COPY", None)
        assert result.exit_code == 0, result.output
        files[copy] = out.read_bytes()
    assert files[True] == files[False] == BLACKLIST_FILE[1:].encode("gb18030")


_CODES = st.one_of(st.none(), st.text(alphabet='=+-@\t\r\n,"0123456789AX 𠮷', max_size=18))
_DAYS = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
_LISTING = st.tuples(
    _TEXT.map(lambda s: s[:200]),
    st.sampled_from([ORG, NATURAL_PERSON, "个体工商户"]),
    _CODES,
    st.sampled_from(["refused", "inadequate", "penalty", "=x"]),
    st.one_of(st.none(), _TEXT),
    _DAYS,
    st.one_of(st.none(), _DAYS),
    st.sampled_from(["bureau", "dept_a", "dept_a1", "dept_b"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_LISTING, min_size=1, max_size=8), st.sampled_from(["utf-8-sig", "gb18030"]))
def test_copy_and_python_write_the_same_blacklist(app, world, listings, encoding):
    if not _is_postgresql(app):
        pytest.skip("the COPY path is PostgreSQL's")
    from app.core.csvfile import copy_chunks

    _list(app, world, listings)
    with app.app_context():
        query = portal.blacklist_query()
        python = b"".join(
            csv_chunks(
                portal.BLACKLIST_HEADERS,
                (
                    portal.blacklist_row(n, row)
                    for n, row in enumerate(db.session.execute(query), 1)
                ),
                encoding,
            )
        )
        copied = b"".join(
            copy_chunks(db.engine, portal.blacklist_copy(query), portal.BLACKLIST_HEADERS, encoding)
        )
    assert copied == python


# 抽查结果: the records of a published task, given the same tricky values in turn.
RESULT_ROUNDS = [
    [
        ("欧阳娜娜", NATURAL_PERSON, "1506**********1234", "未发现问题", None),
        ('=cmd|" /C calc"!A0', ORG, "91150602MA0N000001", "+发现问题", "-立案查处"),
    ],
    [
        ("@有限,公司", ORG, None, "\t结果", "\r处置"),
        ("多行\r\n名称", "个体工商户", "=1", None, '"引号"'),
    ],
    [
        ("䶮𪚥😀", ORG, "", "未发现问题", "无需后续处置"),
        (" John Smith ", NATURAL_PERSON, None, "", ""),
    ],
]


def test_copy_and_python_write_the_same_results(app, world, inspected):
    finish(app, inspected)
    postgresql = _is_postgresql(app)
    with app.app_context(), acting_as_system():
        task = db.session.get(SpotCheckTask, inspected.task)
        task_id, number = task.id, task.number
        db.session.execute(
            update(SpotCheckTask).where(SpotCheckTask.id == task_id).values(name="=任务,名称")
        )
        db.session.commit()
        record_ids = db.session.scalars(
            select(InspectionRecord.id)
            .where(InspectionRecord.task_id == task_id)
            .order_by(InspectionRecord.id)
        ).all()
    assert len(record_ids) == 2
    for values in RESULT_ROUNDS:
        with app.app_context(), acting_as_system():
            for record_id, (name, kind, code, result, follow_up) in zip(
                record_ids, values, strict=True
            ):
                db.session.execute(
                    update(InspectionRecord)
                    .where(InspectionRecord.id == record_id)
                    .values(
                        target_name=name,
                        target_type=kind,
                        target_code=code,
                        result_code=result,
                        follow_up=follow_up,
                    )
                )
            db.session.commit()
        for url in (
            "/public/results?format=csv",
            f"/public/results/{task_id}?format=csv",
            "/public/results?format=csv&encoding=gb18030&q=任务",
        ):
            python = _http(app, url, copy=False)
            assert number.encode("gb18030" if "gb18030" in url else "utf-8") in python
            assert "'=任务,名称".encode("gb18030" if "gb18030" in url else "utf-8") in python
            if postgresql:
                assert _http(app, url, copy=True) == python, url
