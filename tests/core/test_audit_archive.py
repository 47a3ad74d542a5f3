"""Retention and archive of the audit log (issue 20, part 4; 网络安全法 art. 21): rows younger
than AUDIT_RETENTION_DAYS (at least 180) are never removed; `flask audit archive` moves older
ones into a verified file, refuses a cut that would destroy tampering evidence or break the
chain, and the chain still verifies across the cut."""

import datetime as dt
import json

import pytest
from sqlalchemy import delete, func, select, update

from app.core.audit import chain
from app.core.audit.models import GENESIS_HASH, AuditArchive, AuditChainHead, AuditLog
from app.core.audit.recorder import base_entry
from app.extensions import db
from app.security.system_user import acting_as_system

TODAY = dt.date.today()


def _days_ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


@pytest.fixture
def log(app, world):
    """A log of 30 rows made 230 down to 201 days ago (one a day), then 5 of today."""
    with app.app_context(), acting_as_system(), db.engine.begin() as conn:
        conn.execute(delete(AuditLog))
        conn.execute(update(AuditChainHead).values(last_seq=0, last_hash=GENESIS_HASH))
        now = dt.datetime.now().replace(microsecond=0)
        old = [
            dict(
                base_entry("export", "target", i),
                created_at=now - dt.timedelta(days=230 - i),
                detail=f"旧记录 {i}",
            )
            for i in range(30)
        ]
        chain.append(conn, old)
        chain.append(conn, [dict(base_entry("export", "target", i), detail="新") for i in range(5)])
    return app


def _seqs(app):
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(AuditLog.seq).order_by(AuditLog.seq)).scalars().all()


def _hash_of(app, seq):
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(AuditLog.row_hash).where(AuditLog.seq == seq)).scalar()


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


def test_archive_moves_the_old_rows_into_a_file_and_the_chain_still_verifies(
    log, tmp_path, login_as
):
    noted = _hash_of(log, 12)
    result = _run(log, "archive", "--before", _days_ago(180), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "已归档第 1–30 条审计记录（共 30 条）" in result.output
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["audit-archive-000000000001-000000000030.jsonl"]
    lines = files[0].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 32  # header, 30 rows, trailer
    assert json.loads(lines[1])["row"]["detail"] == "旧记录 0"
    # The old rows left the log; today's stayed; the archive event joined the chain.
    assert _seqs(log) == list(range(31, 37))
    with log.app_context(), db.engine.connect() as conn:
        event = conn.execute(select(AuditLog).where(AuditLog.seq == 36)).first()
        segment = conn.execute(select(AuditArchive)).one()
    assert event.action == "audit_archive" and json.loads(event.detail)["rows"] == 30
    assert (segment.first_seq, segment.last_seq, segment.row_count) == (1, 30, 30)
    assert segment.prev_hash == GENESIS_HASH
    # The auditor reads the event in Chinese on the audit log's page.
    page = login_as("auditor").get(f"/audit/show/{event.id}").get_data(as_text=True)
    assert "归档审计记录" in page and "起始条目：1" in page and "截止条目：30" in page
    assert "first_seq" not in page and "（不予显示）" not in page

    verified = _run(log, "verify")
    assert verified.exit_code == 0 and "审计日志完整" in verified.output
    # A head noted before the cut (a filing, the draw ledger) is found in the archive file.
    held = _run(log, "verify", "--head", f"12:{noted}")
    assert held.exit_code == 0, held.output
    wrong = _run(log, "verify", "--head", f"12:{'0' * 64}")
    assert wrong.exit_code == 1 and "已归档" in wrong.output
    standalone = _run(log, "verify-archive", str(files[0]), "--head", f"12:{noted}")
    assert standalone.exit_code == 0 and "与归档登记一致" in standalone.output


def test_rows_younger_than_the_retention_are_never_archived(log, tmp_path):
    result = _run(log, "archive", "--before", _days_ago(179), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "至少保存 180 天" in result.output and _days_ago(180) in result.output
    assert _seqs(log) == list(range(1, 36)) and not list(tmp_path.iterdir())


def test_a_retention_setting_below_the_legal_minimum_is_refused(log, tmp_path, monkeypatch):
    monkeypatch.setitem(log.config, "AUDIT_RETENTION_DAYS", 30)
    result = _run(log, "archive", "--before", _days_ago(200), "--out", str(tmp_path))
    assert result.exit_code == 1 and "低于法定的 180 天" in result.output
    assert len(_seqs(log)) == 35


def test_a_tampered_row_is_not_archived_away(log, tmp_path):
    with log.app_context(), db.engine.begin() as conn:
        conn.execute(update(AuditLog).where(AuditLog.seq == 7).values(detail="改过"))
    result = _run(log, "archive", "--before", _days_ago(180), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "第 7 条审计记录内容已被修改" in result.output and "拒绝归档" in result.output
    assert len(_seqs(log)) == 35 and not list(tmp_path.iterdir())
    with log.app_context(), db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditArchive)).scalar() == 0


def test_a_cut_that_would_leave_an_unverifiable_chain_is_refused(log, tmp_path):
    # The first row after the cut names another predecessor: cutting there hides the break.
    with log.app_context(), db.engine.begin() as conn:
        conn.execute(update(AuditLog).where(AuditLog.seq == 31).values(prev_hash="f" * 64))
    result = _run(log, "archive", "--before", _days_ago(180), "--out", str(tmp_path))
    assert result.exit_code == 1 and "第 31 条审计记录与第 30 条不相连" in result.output
    assert len(_seqs(log)) == 35 and not list(tmp_path.iterdir())


def test_two_archives_follow_one_another_and_a_forged_segment_is_noticed(log, tmp_path):
    first = _run(log, "archive", "--before", _days_ago(220), "--out", str(tmp_path))
    assert first.exit_code == 0, first.output
    assert "已归档第 1–10 条" in first.output
    second = _run(log, "archive", "--before", _days_ago(181), "--out", str(tmp_path))
    assert second.exit_code == 0 and "已归档第 11–30 条" in second.output
    again = _run(log, "archive", "--before", _days_ago(181), "--out", str(tmp_path))
    assert again.exit_code == 0 and "没有" in again.output
    assert _run(log, "verify").exit_code == 0

    with log.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(AuditArchive).where(AuditArchive.first_seq == 11).values(prev_hash="e" * 64)
        )
    broken = _run(log, "verify")
    assert broken.exit_code == 1 and "归档登记已被篡改" in broken.output


def test_rows_removed_after_an_archive_are_still_noticed(log, tmp_path):
    assert _run(log, "archive", "--before", _days_ago(180), "--out", str(tmp_path)).exit_code == 0
    with log.app_context(), db.engine.begin() as conn:
        conn.execute(delete(AuditLog).where(AuditLog.seq == 31))
    result = _run(log, "verify")
    assert result.exit_code == 1 and "第 31 条审计记录已被删除" in result.output


def test_an_altered_archive_file_is_noticed(log, tmp_path):
    noted = _hash_of(log, 5)
    assert _run(log, "archive", "--before", _days_ago(180), "--out", str(tmp_path)).exit_code == 0
    path = next(tmp_path.iterdir())
    text = path.read_text(encoding="utf-8").replace("旧记录 3", "旧记录 9", 1)
    path.write_text(text, encoding="utf-8")
    standalone = _run(log, "verify-archive", str(path))
    assert standalone.exit_code == 1 and "第 4 条记录内容已被修改" in standalone.output
    head = _run(log, "verify", "--head", f"5:{noted}")
    assert head.exit_code == 1 and "校验失败" in head.output


def test_bad_arguments_get_a_chinese_answer(log, tmp_path):
    bad_date = _run(log, "archive", "--before", "去年", "--out", str(tmp_path))
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    missing = _run(log, "archive", "--before", _days_ago(200), "--out", str(tmp_path / "无"))
    assert missing.exit_code == 1 and "不存在" in missing.output
    assert len(_seqs(log)) == 35
