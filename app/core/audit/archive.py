"""Retention and archive of the audit log (网络安全法 art. 21: network logs kept at least six
months; GB/T 22239-2019 level 3, 安全审计: records protected from deletion and kept).

- Rows are kept for AUDIT_RETENTION_DAYS (at least 180, the default): nothing deletes a younger
  row. The application never deletes a row at all (the ORM refuses, recorder.py); the only way
  out of the log is `flask audit archive`.
- `flask audit archive --before DATE --out DIR` moves the oldest rows, those created before DATE,
  into one archive file, in one transaction:
  1. the rows are read in chain order and checked as `verify` does (seq without gaps, each
     row's hash, each link); a segment that does not verify is not archived, since pruning it
     would destroy the evidence of the tampering. The row after the cut must link to the last
     archived row, or the cut would leave a chain that no longer verifies;
  2. they are written to `audit-archive-<first>-<last>.jsonl` (a header line, one line per row
     with every hashed field and the row's hash, a trailer line with the last hash and the
     count), flushed to disk, and the file is read back and verified;
  3. the segment (first/last seq, the hash before it, the last hash, the file's path and
     SHA-256) goes into `audit_archive`, the rows are deleted, and an `audit_archive` event
     joins the chain. The review marks 已审阅 of the archived rows (audit_review) are deleted
     with them and counted in that event: each marking is an `audit_review` event of the
     chain (reviewer, time, note, the rows' seq), so it stays in the log or, archived in its
     turn, in an archive file; the file's format is unchanged.
  Any failure rolls everything back; the file is removed.
- Across the cut the chain stays verifiable: `verify` checks that the archived segments follow
  one another and starts from the newest one's last hash, so the first row left in the log must
  name it as its predecessor. A noted head (`--head SEQ:HASH`) inside an archived segment is
  looked up in its archive file; `flask audit verify-archive FILE` checks a file on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from app.core.audit import chain
from app.core.audit.models import GENESIS_HASH, AuditArchive, AuditLog, AuditReview

MIN_RETENTION_DAYS = 180
FORMAT = "dsr-audit-archive"
VERSION = 1
_FIELDS = (*chain.HASHED_FIELDS, "row_hash")


class ArchiveRefused(Exception):
    """Why nothing was archived (Chinese, for the command line)."""


@dataclass
class Archived:
    first_seq: int
    last_seq: int
    rows: int
    path: Path
    sha256: str
    reviews: int = 0  # review marks of the archived rows, deleted with them


def retention_days(config) -> int:
    days = int(config.get("AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS))
    if days < MIN_RETENTION_DAYS:
        raise ArchiveRefused(
            f"AUDIT_RETENTION_DAYS 设为 {days} 天，低于法定的 {MIN_RETENTION_DAYS} 天"
            "（网络安全法第二十一条：网络日志至少保存六个月）：请改正设置后再归档"
        )
    return days


def earliest_allowed_cutoff(config, today: dt.date | None = None) -> dt.date:
    """The latest DATE `--before DATE` may name: rows younger than the retention stay."""
    return (today or dt.date.today()) - dt.timedelta(days=retention_days(config))


def segments(connection: Connection) -> list:
    return connection.execute(select(AuditArchive).order_by(AuditArchive.first_seq)).all()


def chain_start(connection: Connection) -> tuple[int, str, list[str]]:
    """(the first seq the log must still hold, the hash its row must name as predecessor, the
    problems of the archived segments' own order)."""
    expected_seq, prev, problems = 1, GENESIS_HASH, []
    for segment in segments(connection):
        if segment.first_seq != expected_seq or segment.prev_hash != prev:
            problems.append(
                f"归档记录第 {segment.first_seq}–{segment.last_seq} 条与前一段归档不相连："
                "归档登记已被篡改"
            )
            break
        expected_seq, prev = segment.last_seq + 1, segment.last_hash
    return expected_seq, prev, problems


def _segment_rows(connection: Connection, first: int, last: int, batch: int = 2000):
    columns = [getattr(AuditLog, name) for name in _FIELDS] + [AuditLog.id]
    # Options on the statement: Connection.execution_options would stream every later one.
    return connection.execute(
        select(*columns)
        .where(AuditLog.seq >= first, AuditLog.seq <= last)
        .order_by(AuditLog.seq)
        .execution_options(yield_per=batch)
    ).mappings()


def _checked(rows, first: int, prev: str) -> Iterator[dict]:
    """The rows as dicts, in order, each checked as `verify` checks it; ArchiveRefused at the
    first that fails."""
    expected = first
    for row in rows:
        row = dict(row)
        fault = chain.row_fault(row, expected, prev)
        if fault == "seq":
            raise ArchiveRefused(
                f"第 {expected} 条审计记录缺失或序号被篡改：审计链已断，拒绝归档"
                "（先用 flask audit verify 查明原因）"
            )
        if fault == "hash":
            raise ArchiveRefused(
                f"第 {row['seq']} 条审计记录内容已被修改：拒绝归档，以免删除被篡改的证据"
            )
        if fault == "link":
            raise ArchiveRefused(f"第 {row['seq']} 条审计记录与前一条不相连：审计链已断，拒绝归档")
        prev = row["row_hash"]
        expected += 1
        yield row


def _line(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _row_for_file(row: dict) -> dict:
    return {name: chain.canonical_value(row[name]) for name in _FIELDS}


def archive(
    connection: Connection,
    before: dt.date,
    out_dir: Path,
    config,
    username: str | None,
    today: dt.date | None = None,
) -> Archived | None:
    """Archive the rows created before `before` into a file in `out_dir` and delete them, in the
    caller's transaction (the caller commits; on any exception it rolls back). None when no
    row is old enough. ArchiveRefused says why nothing was done."""
    limit = earliest_allowed_cutoff(config, today)
    if before > limit:
        raise ArchiveRefused(
            f"审计记录至少保存 {retention_days(config)} 天：只能归档 {limit.isoformat()} "
            f"之前的记录，不能归档 {before.isoformat()} 之前的"
        )
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ArchiveRefused(f"归档目录 {out_dir} 不存在")
    # The head's lock keeps every writer of the chain (and a second archive) out meanwhile.
    head_seq, _head_hash = chain.lock_head(connection)
    first, prev, problems = chain_start(connection)
    if problems:
        raise ArchiveRefused(problems[0])
    cutoff = dt.datetime.combine(before, dt.time())
    first_young = connection.execute(
        select(func.min(AuditLog.seq)).where(AuditLog.seq >= first, AuditLog.created_at >= cutoff)
    ).scalar()
    last = (first_young - 1) if first_young is not None else head_seq
    if last < first:
        return None
    following = connection.execute(
        select(AuditLog.seq, AuditLog.prev_hash).where(AuditLog.seq == last + 1)
    ).first()

    path = out_dir / f"audit-archive-{first:012d}-{last:012d}.jsonl"
    if path.exists():
        raise ArchiveRefused(f"归档文件 {path} 已存在：请换一个目录或先移走该文件")
    partial = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    count, last_hash = 0, prev
    try:
        with partial.open("wb") as handle:

            def write(data: dict) -> None:
                line = _line(data)
                digest.update(line)
                handle.write(line)

            write(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "first_seq": first,
                    "last_seq": last,
                    "prev_hash": prev,
                    "cutoff": cutoff.isoformat(sep=" "),
                }
            )
            for row in _checked(_segment_rows(connection, first, last), first, prev):
                write({"row": _row_for_file(row)})
                count += 1
                last_hash = row["row_hash"]
            if count != last - first + 1:
                raise ArchiveRefused(
                    f"第 {first + count}–{last} 条审计记录缺失：审计链已断，拒绝归档"
                )
            if following is not None and following.prev_hash != last_hash:
                raise ArchiveRefused(
                    f"第 {last + 1} 条审计记录与第 {last} 条不相连：在此处截断会留下无法校验的"
                    "审计链，拒绝归档"
                )
            if following is None and head_seq != last:
                raise ArchiveRefused("审计链头与最新记录不符：拒绝归档")
            write({"end": True, "last_hash": last_hash, "rows": count})
            handle.flush()
            os.fsync(handle.fileno())
        sha256 = digest.hexdigest()
        checked = verify_file(partial)
        if checked.problems or checked.sha256 != sha256:
            raise ArchiveRefused("归档文件写入后读回校验不符：拒绝归档（请检查磁盘）")
        os.replace(partial, path)
        connection.execute(
            insert(AuditArchive).values(
                first_seq=first,
                last_seq=last,
                prev_hash=prev,
                last_hash=last_hash,
                row_count=count,
                cutoff=cutoff,
                file_path=str(path.resolve()),
                file_sha256=sha256,
                created_at=dt.datetime.now().replace(microsecond=0),
                username=username,
            )
        )
        reviews = connection.execute(
            delete(AuditReview).where(AuditReview.audit_seq >= first, AuditReview.audit_seq <= last)
        ).rowcount
        connection.execute(delete(AuditLog).where(AuditLog.seq >= first, AuditLog.seq <= last))
    except BaseException:
        partial.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise
    return Archived(first, last, count, path, sha256, reviews)


@dataclass
class FileCheck:
    first_seq: int | None = None
    last_seq: int | None = None
    prev_hash: str | None = None
    last_hash: str | None = None
    rows: int = 0
    sha256: str = ""
    found_hash: str | None = None
    problems: list[str] = field(default_factory=list)


def _file_lines(path: Path, check: FileCheck) -> Iterator[dict]:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            digest.update(line)
            try:
                yield json.loads(line)
            except ValueError:
                check.problems.append(f"归档文件第 {number} 行不是有效的 JSON：文件已损坏或被修改")
                return
    check.sha256 = digest.hexdigest()


_FILE_FAULTS = {
    "seq": "缺失或顺序被篡改",
    "hash": "内容已被修改：哈希值不符",
    "link": "与前一条不相连",
}


def verify_file(path: Path, find_seq: int | None = None) -> FileCheck:
    """Check an archive file on its own: its header, every row's hash and link, the trailer.
    With `find_seq`, `check.found_hash` is that row's hash (None when not in the file)."""
    check = FileCheck()
    lines = _file_lines(path, check)
    header = next(lines, None)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        check.problems.append("不是本系统的审计归档文件（缺少文件头）")
        return check
    check.first_seq, check.last_seq = header.get("first_seq"), header.get("last_seq")
    expected, prev = check.first_seq, header.get("prev_hash")
    check.prev_hash = prev
    trailer = None
    for data in lines:
        if data.get("end"):
            trailer = data
            break
        row = data.get("row") or {}
        fault = chain.row_fault(row, expected, prev)
        if fault is not None:
            check.problems.append(f"归档文件中第 {expected} 条记录" + _FILE_FAULTS[fault])
            return check
        if find_seq == expected:
            check.found_hash = row["row_hash"]
        prev = row["row_hash"]
        expected += 1
        check.rows += 1
    for _rest in lines:  # nothing may follow the trailer; reading on also completes the digest
        check.problems.append("归档文件在结尾行之后还有内容：文件已被修改")
        break
    if check.problems:
        return check
    if trailer is None:
        check.problems.append("归档文件不完整：缺少结尾行")
    elif trailer.get("rows") != check.rows or trailer.get("last_hash") != prev:
        check.problems.append("归档文件结尾行的条数或哈希值与内容不符")
    elif expected - 1 != check.last_seq:
        check.problems.append("归档文件的记录范围与文件头不符")
    check.last_hash = prev
    return check


def segment_holding(connection: Connection, seq: int):
    """The archived segment that holds entry `seq`, or None."""
    return connection.execute(
        select(AuditArchive).where(AuditArchive.first_seq <= seq, AuditArchive.last_seq >= seq)
    ).first()


def check_archived_head(segment, seq: int, digest: str) -> str | None:
    """A noted head inside an archived segment: looked up in that segment's file (which must
    still be the recorded one). None when it holds, else the Chinese message."""
    if seq == segment.last_seq:
        found = segment.last_hash
    else:
        path = Path(segment.file_path)
        if not path.exists():
            return (
                f"第 {seq} 条审计记录已归档到 {path}，但该文件不在原处：请找回归档文件后用 "
                f"flask audit verify-archive 文件 --head {seq}:{digest} 校验"
            )
        check = verify_file(path, find_seq=seq)
        if check.problems:
            return f"归档文件 {path} 校验失败：{check.problems[0]}"
        if check.sha256 != segment.file_sha256:
            return f"归档文件 {path} 与归档登记的 SHA-256 不符：文件已被替换"
        found = check.found_hash
    if found != digest:
        return f"第 {seq} 条审计记录（已归档）的哈希值与记下的链头不符：审计链已被改写"
    return None
