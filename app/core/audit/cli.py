import re
import sys

import click
from flask.cli import AppGroup

from app.core.audit.chain import check_head, verify
from app.extensions import db

audit_cli = AppGroup("audit", help="The audit log.")

HEAD_FORMAT = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")


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
    noted = None
    if head is not None:
        match = HEAD_FORMAT.match(head.strip().lower())
        if match is None:
            click.echo("--head 的格式应为 序号:哈希值（64 位十六进制），例如 42:3f5a…", err=True)
            sys.exit(2)
        noted = int(match.group(1)), match.group(2)
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
