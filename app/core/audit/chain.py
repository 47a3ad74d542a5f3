"""Hash chain of the audit log.

row_hash = SHA-256 of the UTF-8 bytes of the canonical JSON (keys sorted, no whitespace,
non-ASCII kept) of the row's fields listed in HASHED_FIELDS, `prev_hash` included; the first
row's prev_hash is 64 zeros. Times are stored and hashed to the second, so every database
returns exactly what was hashed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import tempfile
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from app.core.audit.models import GENESIS_HASH, AuditChainHead, AuditLog
from app.core.locks import lock_for_update

HEAD_ID = 1
HASHED_FIELDS = (
    "seq",
    "created_at",
    "user_id",
    "username",
    "roles",
    "ip",
    "action",
    "object_type",
    "object_id",
    "department_id",
    "changes",
    "detail",
    "prev_hash",
)


def canonical_value(value):
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat(sep=" ")
    return value


_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
_KEYS = tuple(f"{json.dumps(name)}:" for name in _SORTED_FIELDS)
_encode_string = json.encoder.encode_basestring  # the C encoder json.dumps uses


def json_text(value) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))` of one value, with the
    common cases (text, whole numbers, null) taken without the encoder's set-up: the bulk
    writers hash and dump a hundred thousand rows at a time."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_json(row: dict) -> str:
    """The canonical JSON the hash is taken of: the HASHED_FIELDS, keys sorted, no whitespace,
    non-ASCII kept (what json.dumps(..., sort_keys=True) writes, built field by field)."""
    parts = [
        key + json_text(canonical_value(row.get(name)))
        for key, name in zip(_KEYS, _SORTED_FIELDS, strict=True)
    ]
    return "{" + ",".join(parts) + "}"


def row_hash(row: dict) -> str:
    return hashlib.sha256(canonical_json(row).encode("utf-8")).hexdigest()


def lock_head(connection: Connection):
    lock_for_update(connection, AuditChainHead.__table__, HEAD_ID)
    head = connection.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
    ).first()
    if head is None:
        # A database built by the migration has the row; this covers one built by create_all.
        connection.execute(
            insert(AuditChainHead).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH)
        )
        return 0, GENESIS_HASH
    return head.last_seq, head.last_hash


def append(connection: Connection, entries: list[dict]) -> None:
    """Append entries (dicts of AuditLog fields without seq/hashes) inside the caller's
    transaction. The head row stays locked until that transaction ends."""
    if not entries:
        return
    seq, prev = lock_head(connection)
    rows, seq, prev = _chained(entries, seq, prev)
    _insert(connection, rows)
    _move_head(connection, seq, prev)


def _chained(entries, seq: int, prev: str) -> tuple[list[dict], int, str]:
    rows = []
    for entry in entries:
        seq += 1
        row = dict(entry, seq=seq, prev_hash=prev)
        row["created_at"] = row["created_at"].replace(microsecond=0, tzinfo=None)
        row["row_hash"] = prev = row_hash(row)
        rows.append(row)
    return rows, seq, prev


def _move_head(connection: Connection, seq: int, prev: str) -> None:
    connection.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=seq, last_hash=prev)
    )


class _Alike:
    """The canonical JSON of entries that share every field but `changes`, `department_id`,
    `object_id` (and the chain's `seq`, `prev_hash`): the shared fields are written once into a
    %-template, the rest filled in per row. Same text as canonical_json (tested)."""

    VARYING = ("changes", "department_id", "object_id", "prev_hash", "seq")

    def __init__(self, base: dict):
        fixed = dict(base, created_at=base["created_at"].replace(microsecond=0, tzinfo=None))
        text = ""
        for key, name in zip(_KEYS, _SORTED_FIELDS, strict=True):
            text += ("," if text else "{") + key.replace("%", "%%")
            if name in self.VARYING:
                text += "%s"
            else:
                text += json_text(canonical_value(fixed.get(name))).replace("%", "%%")
        self.template = text + "}"
        # A row in _COLUMNS order, the varying places filled per row.
        self.row = [fixed.get(name) for name in _COLUMNS]
        self.places = tuple(_COLUMNS.index(name) for name in (*self.VARYING, "row_hash"))


class Appender:
    """Appends the entries of a bulk write (an import's row per record) in the caller's
    transaction: the head is locked once, entries are chained and hashed as they come, in the
    order given. On PostgreSQL the rows go in by COPY: with `direct=True` straight away, into
    a COPY that stays open between `add()` calls (the caller leaves the connection alone until
    `pause()` or `close()`; the database stores the rows while the next ones are built),
    otherwise they wait in a temporary file until `close()` (the connection may be busy with
    the COPY of the records meanwhile). Elsewhere each `add()` inserts its rows. Nothing is
    visible, and the head does not move, before the transaction commits."""

    def __init__(self, connection: Connection, *, direct: bool = False):
        self.connection = connection
        self.seq, self.prev = lock_head(connection)
        postgresql = connection.dialect.name == "postgresql"
        self.direct = direct and postgresql
        self.spool = tempfile.TemporaryFile() if postgresql and not direct else None
        self.count = 0
        self._cursor = self._copy = self._rows = None

    def add(self, entries: list[dict]) -> None:
        if not entries:
            return
        rows, self.seq, self.prev = _chained(entries, self.seq, self.prev)
        self._write([tuple([row.get(name) for name in _COLUMNS]) for row in rows])

    def add_alike(self, base: dict, rows) -> None:
        """Entries `dict(base, object_id=..., department_id=..., changes=...)`, given as
        (object_id, department_id, changes) triples: what `add()` writes, built faster."""
        alike = _Alike(base)
        template, row, places = alike.template, alike.row, alike.places
        seq, prev = self.seq, self.prev
        values = []
        for object_id, department_id, changes in rows:
            seq += 1
            text = template % (
                json_text(changes),
                json_text(department_id),
                json_text(object_id),
                json_text(prev),
                seq,
            )
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            for place, value in zip(
                places, (changes, department_id, object_id, prev, seq, digest), strict=True
            ):
                row[place] = value
            values.append(tuple(row))
            prev = digest
        self.seq, self.prev = seq, prev
        self._write(values)

    def _write(self, values: list[tuple]) -> None:
        if not values:
            return
        self.count += len(values)
        if self.direct:
            if self._copy is None:
                self._cursor = self.connection.connection.driver_connection.cursor()
                self._copy = self._cursor.copy(f"COPY audit_log ({_COLUMN_NAMES}) FROM STDIN")
                self._rows = self._copy.__enter__()
            for row in values:
                self._rows.write_row(row)
        elif self.spool is not None:
            pickle.dump(values, self.spool, pickle.HIGHEST_PROTOCOL)
        else:
            rows = [dict(zip(_COLUMNS, row, strict=True)) for row in values]
            self.connection.execute(insert(AuditLog), rows)

    def pause(self) -> None:
        """Ends the direct COPY, so that the caller can use the connection; a later `add()`
        opens another."""
        if self._copy is not None:
            copy, cursor = self._copy, self._cursor
            self._cursor = self._copy = self._rows = None
            copy.__exit__(None, None, None)
            cursor.close()

    def abort(self) -> None:
        """On the way out of an exception: ends a direct COPY as failed (a connection left in
        the middle of a COPY cannot even roll back); the caller rolls the transaction back."""
        if self._copy is not None:
            copy, cursor = self._copy, self._cursor
            self._cursor = self._copy = self._rows = None
            try:
                copy.__exit__(RuntimeError, RuntimeError("import aborted"), None)
                cursor.close()
            except Exception:  # noqa: BLE001 - the exception being handled matters more
                pass
        if self.spool is not None:
            self.spool.close()

    def close(self) -> None:
        self.pause()
        if self.spool is not None:
            if self.count:
                self.spool.seek(0)
                cursor = self.connection.connection.driver_connection.cursor()
                with cursor.copy(f"COPY audit_log ({_COLUMN_NAMES}) FROM STDIN") as copy:
                    while True:
                        try:
                            values = pickle.load(self.spool)
                        except EOFError:
                            break
                        for row in values:
                            copy.write_row(row)
                cursor.close()
            self.spool.close()
        if self.count:
            _move_head(self.connection, self.seq, self.prev)


# Rows appended at once from which PostgreSQL gets them by COPY (a bulk import's per-record rows);
# fewer go through one INSERT. Either way they join the caller's transaction.
COPY_FROM = 100
_COLUMNS = (*HASHED_FIELDS, "row_hash")
_COLUMN_NAMES = ", ".join(_COLUMNS)


def _insert(connection: Connection, rows: list[dict]) -> None:
    if len(rows) < COPY_FROM or connection.dialect.name != "postgresql":
        connection.execute(insert(AuditLog), rows)
        return
    cursor = connection.connection.driver_connection.cursor()
    names = ", ".join(_COLUMNS)
    with cursor.copy(f"COPY audit_log ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(name) for name in _COLUMNS])
    cursor.close()


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def row_fault(row, expected_seq: int, prev: str) -> str | None:
    """How one row of a chain walk fails, checked in this order: "seq" (not the next number),
    "hash" (its content no longer gives its hash), "link" (it names another predecessor);
    None when it holds. The walkers (`verify`, the archive's writer and reader) word it."""
    if row.get("seq") != expected_seq:
        return "seq"
    if row_hash(row) != row.get("row_hash"):
        return "hash"
    if row.get("prev_hash") != prev:
        return "link"
    return None


def verify(connection: Connection, batch: int = 2000) -> VerifyResult:
    """Walk the chain in order and report the first row that was altered or removed.

    Messages are Chinese: they are read by the bureau's auditors at the command line.
    """
    from app.core.audit.archive import chain_start

    result = VerifyResult()
    # Rows moved into archive files (archive.py): the log starts after the newest segment.
    expected_seq, prev, problems = chain_start(connection)
    if problems:
        result.first_bad_seq = expected_seq
        result.problems.extend(problems)
        return result
    columns = [getattr(AuditLog, name) for name in HASHED_FIELDS] + [AuditLog.id, AuditLog.row_hash]
    stream = connection.execution_options(yield_per=batch).execute(
        select(*columns).order_by(AuditLog.seq)
    )

    def fail(seq, message):
        result.first_bad_seq = seq
        result.problems.append(message)

    for row in stream.mappings():
        result.checked += 1
        fault = row_fault(row, expected_seq, prev)
        if fault == "seq":
            if row["seq"] > expected_seq:
                missing = (
                    f"第 {expected_seq} 条"
                    if row["seq"] == expected_seq + 1
                    else f"第 {expected_seq}–{row['seq'] - 1} 条"
                )
                fail(
                    expected_seq,
                    f"{missing}审计记录已被删除（其后的第 {row['seq']} 条记录 id={row['id']} 前已断链）",
                )
            else:
                fail(
                    row["seq"], f"第 {row['seq']} 条审计记录（id={row['id']}）序号重复或顺序被篡改"
                )
            break
        if fault == "hash":
            fail(
                row["seq"], f"第 {row['seq']} 条审计记录（id={row['id']}）内容已被修改：哈希值不符"
            )
            break
        if fault == "link":
            fail(
                row["seq"] - 1,
                f"第 {row['seq'] - 1} 条审计记录已被修改或替换：第 {row['seq']} 条记录保存的前一条哈希值与之不符",
            )
            break
        prev = row["row_hash"]
        expected_seq += 1
    stream.close()
    if result.ok:
        head = connection.execute(
            select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
                AuditChainHead.id == HEAD_ID
            )
        ).first()
        last_seq = expected_seq - 1
        if head is None:
            if last_seq:
                fail(last_seq, "审计链头记录缺失，无法确认最新记录是否完整")
        elif head.last_seq != last_seq or head.last_hash != prev:
            if head.last_seq > last_seq:
                fail(
                    last_seq + 1,
                    f"最新的第 {last_seq + 1}–{head.last_seq} 条审计记录已被删除",
                )
            else:
                fail(last_seq, f"审计链头与第 {last_seq} 条记录不符：链头或最新记录已被篡改")
    return result


def check_head(connection: Connection, seq: int, digest: str) -> str | None:
    """Whether the chain still holds a head noted earlier (in a filing CSV, in the public draw
    ledger's `audit_head` entry, on paper): entry `seq` must still have hash `digest`. Run
    after `verify`, which proves every later entry still links back to it. None when it
    holds, else the Chinese message."""
    found = connection.execute(select(AuditLog.row_hash).where(AuditLog.seq == seq)).first()
    if seq == 0:
        return None if digest == GENESIS_HASH else "第 0 条审计链头的哈希值只能是 64 个 0"
    if found is None:
        from app.core.audit.archive import check_archived_head, segment_holding

        segment = segment_holding(connection, seq)
        if segment is not None:
            return check_archived_head(segment, seq, digest)
        return f"审计链中已没有第 {seq} 条记录：记下的链头之后的记录已被删除或链已被重建"
    if found.row_hash != digest:
        return f"第 {seq} 条审计记录的哈希值与记下的链头不符：审计链已被改写"
    return None
