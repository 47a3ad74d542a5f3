import datetime as dt
import re
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.audit.chain import check_head, verify
from app.extensions import db

audit_cli = AppGroup("audit", help="The audit log.")

HEAD_FORMAT = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")


def _noted_head(head: str | None) -> tuple[int, str] | None:
    """`--head SEQ:HASH` as (seq, hash); exit 2 with the format when it is not one."""
    if head is None:
        return None
    match = HEAD_FORMAT.match(head.strip().lower())
    if match is None:
        click.echo("--head 的格式应为 序号:哈希值（64 位十六进制），例如 42:3f5a…", err=True)
        sys.exit(2)
    return int(match.group(1)), match.group(2)


@audit_cli.command("verify")
@click.option(
    "--head",
    "head",
    default=None,
    metavar="SEQ:HASH",
    help="An audit head noted earlier (a filing CSV, the draw ledger's audit_head entry): "
    "check that the chain still holds it.",
)
def verify_command(head):
    """Walk the hash chain; name the first entry that was altered or removed."""
    noted = _noted_head(head)
    with db.engine.connect() as connection:
        result = verify(connection)
        problem = check_head(connection, *noted) if noted and result.ok else None
    if not result.ok:
        for message in result.problems:
            click.echo(f"审计日志校验失败：{message}", err=True)
        sys.exit(1)
    if problem:
        click.echo(f"审计日志校验失败：{problem}", err=True)
        sys.exit(1)
    click.echo(f"审计日志完整：共校验 {result.checked} 条记录，哈希链未被篡改。")
    if noted:
        click.echo(f"记下的链头（第 {noted[0]} 条）仍在链中，其后的记录均与之相连。")


@audit_cli.command("head")
def head_command():
    """Print the audit chain's head and write today's `audit_head` entry to the public draw
    ledger unless a draw step wrote it already (run it daily from cron)."""
    from app.core.audit.models import AuditChainHead
    from app.draws import ledger

    written = ledger.write_daily_audit_head()
    db.session.commit()
    head = db.session.get(AuditChainHead, 1)
    seq, digest = (head.last_seq, head.last_hash) if head else (0, "0" * 64)
    click.echo(f"{seq}:{digest}")
    if written:
        click.echo(f"已写入摇号公示台账第 {written['seq']} 条（audit_head）。")
    else:
        click.echo("今天的审计链头已在摇号公示台账中。")


@audit_cli.command("archive")
@click.option(
    "--before",
    "before",
    required=True,
    metavar="YYYY-MM-DD",
    help="Archive the rows created before this day (at least AUDIT_RETENTION_DAYS ago).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder the archive file is written to (kept, backed up, off the database host).",
)
def archive_command(before, out_dir):
    """Move the audit rows older than the retention period into an archive file and delete
    them from the log; the hash chain stays verifiable across the cut."""
    from app.core.audit.archive import ArchiveRefused, archive
    from app.core.audit.chain import append
    from app.core.audit.recorder import base_entry, dump
    from app.security.system_user import acting_as_system

    try:
        day = dt.date.fromisoformat(before.strip())
    except ValueError:
        click.echo(f"--before 应为日期 YYYY-MM-DD，例如 2026-06-01，而不是 “{before}”", err=True)
        sys.exit(2)
    with acting_as_system() as user, db.engine.connect() as connection:
        try:
            with connection.begin():
                done = archive(connection, day, out_dir, current_app.config, user.username)
                if done is not None:
                    entry = base_entry("audit_archive", "audit_archive", done.first_seq)
                    entry["detail"] = dump(
                        {
                            "first_seq": done.first_seq,
                            "last_seq": done.last_seq,
                            "rows": done.rows,
                            "reviews": done.reviews,
                            "file": done.path.name,
                            "sha256": done.sha256,
                        }
                    )
                    append(connection, [entry])
        except ArchiveRefused as exc:
            click.echo(f"未归档：{exc}", err=True)
            sys.exit(1)
    if done is None:
        click.echo(f"没有 {day.isoformat()} 之前的审计记录可归档。")
        return
    click.echo(
        f"已归档第 {done.first_seq}–{done.last_seq} 条审计记录（共 {done.rows} 条）到 "
        f"{done.path}，SHA-256 {done.sha256}。请把该文件与备份一同保存。"
        + (
            f"这些记录的 {done.reviews} 个审阅标记随之删除（标记本身留在审计链的审阅事件中）。"
            if done.reviews
            else ""
        )
    )


@audit_cli.command("verify-archive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--head", "head", default=None, metavar="SEQ:HASH", help="A noted head in it.")
def verify_archive_command(file, head):
    """Check an archive file: every row's hash and link, and that it is the file recorded
    for its segment."""
    from sqlalchemy import select

    from app.core.audit.archive import verify_file
    from app.core.audit.models import AuditArchive

    noted = _noted_head(head)
    check = verify_file(file, find_seq=noted[0] if noted else None)
    if check.problems:
        click.echo(f"归档文件校验失败：{check.problems[0]}", err=True)
        sys.exit(1)
    with db.engine.connect() as connection:
        segment = connection.execute(
            select(AuditArchive).where(AuditArchive.first_seq == check.first_seq)
        ).first()
    if segment is None:
        click.echo("归档文件本身完整，但本系统没有这一段的归档登记。", err=True)
        sys.exit(1)
    if segment.file_sha256 != check.sha256 or segment.last_hash != check.last_hash:
        click.echo(
            "归档文件与归档登记不符（SHA-256 或最后一条的哈希值不同）：文件已被替换。", err=True
        )
        sys.exit(1)
    if noted and check.found_hash != noted[1]:
        click.echo(f"归档文件校验失败：第 {noted[0]} 条记录的哈希值与记下的链头不符。", err=True)
        sys.exit(1)
    click.echo(
        f"归档文件完整：第 {check.first_seq}–{check.last_seq} 条，共 {check.rows} 条记录，"
        "与归档登记一致。"
    )
