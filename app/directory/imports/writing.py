"""Pass 2: the spooled rows written in the caller's transaction, with Core statements (one COPY
of the new records on PostgreSQL, batched inserts elsewhere) and the audit rows in bulk."""

from __future__ import annotations

import pickle
import tempfile
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.core.audit import chain
from app.core.audit.recorder import CreatedChanges, base_entry, dump, logged_value
from app.core.personal_data import row_encrypter
from app.directory.imports.validation import DASH, ImportResult
from app.extensions import db

try:
    from psycopg import IntegrityError as _CopyIntegrityError
except ImportError:  # pragma: no cover - psycopg is a requirement
    _INTEGRITY_ERRORS: tuple = (IntegrityError,)
else:
    _INTEGRITY_ERRORS = (IntegrityError, _CopyIntegrityError)

# The AuditMixin columns, stamped by pass 2.
_STAMP_COLUMNS = frozenset({"id", "created_on", "changed_on", "created_by_fk", "changed_by_fk"})
_CHANGED_MEANWHILE = _l("The directory changed while the file was imported: upload it again.")


class Writing:
    """Pass 2 (a mixin of the importer)."""

    def _write_pass(self, spool, result: ImportResult) -> None:
        """Pass 2, in the caller's transaction: the new records that pass 1 did not write (one
        COPY on PostgreSQL, batched inserts elsewhere) and the audit rows of all new records,
        then the updated ones, then the links of the new ones. The audit rows are chained as
        they are built (app/core/audit/chain.Appender): streamed into their own COPY when the
        records were written in pass 1, else written last."""
        connection = db.session.connection()
        # Records written in pass 1 leave the connection free: their audit rows stream in.
        audit = chain.Appender(connection, direct=not self._new_count)
        try:
            self._write_all(connection, audit, spool, result)
        except BaseException:
            audit.abort()
            raise

    def _write_all(self, connection, audit, spool, result: ImportResult) -> None:
        base = base_entry("create", self.model.__table__.name)
        written = 0
        with tempfile.TemporaryFile(prefix="dsr-import-links-") as link_spool:
            with self._record_sink(connection) as sink:
                for batch, ids in _spooled(spool):
                    new = [record for record in batch if record[1] is None]
                    if new:
                        if ids is None:
                            ids = sink([self._copy_values(record) for record in new])
                        audit.add_alike(base, self._created(new, ids, link_spool))
                        result.created += len(new)
                        written += len(new)
                    self.progress(result.rows, written)
            for batch, _ids in _spooled(spool, rewind=True):
                old = [record for record in batch if record[1] is not None]
                if old:
                    audit.pause()  # the updates read and write through the connection
                    entries: list[dict] = []
                    if not self._update_old(connection, old, entries, result):
                        return
                    audit.add(entries)
                    result.updated += len(old)
                    written += len(old)
                    self.progress(result.rows, written)
            audit.pause()
            for links in _spooled(link_spool, rewind=True):
                self.insert_links(connection, links)
        audit.close()
        self.progress(result.rows, written)

    # --- writing ---

    # The AuditMixin stamps of a new record, in the order of _copy_values.
    _stamps_names = ("created_on", "changed_on", "created_by_fk", "changed_by_fk")

    def _copy_columns(self) -> str:
        """The columns of the records' COPY: the id, then those of `_copy_values`."""
        return ", ".join(("id", *self.data_columns, *self._stamps_names))

    def _copy_values(self, record) -> tuple:
        """A new record's values in the order of `_copy_columns` after the id."""
        return (*record[2], self._now, self._now, self._user_id, self._user_id)

    def _copy_encrypter(self):
        """COPY writes the values as they are, past the column types: this encrypts the
        personal data of a row of `_copy_values` as the ORM's type would
        (app/core/personal_data.py). The batched inserts go through the types themselves."""
        return row_encrypter(self.model.__table__, (*self.data_columns, *self._stamps_names))

    @contextmanager
    def _record_sink(self, connection):
        """A function writing new records (tuples of `_copy_values`) and returning their ids,
        for the records pass 1 did not write. On PostgreSQL the ids are taken from the
        table's sequence at once and the rows streamed into one COPY, which the database works
        through while the next batch is prepared."""
        table = self.model.__table__
        if connection.dialect.name != "postgresql" or not self._new_count:
            returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            names = (*self.data_columns, *self._stamps_names)

            def insert_rows(rows: list[tuple]) -> list[int]:
                params = [dict(zip(names, row, strict=True)) for row in rows]
                return connection.execute(returning, params).scalars().all()

            yield insert_rows
            return
        ids = iter(_take_ids(connection, table.name, self._new_count))
        encrypted = self._copy_encrypter()
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({self._copy_columns()}) FROM STDIN") as copy:

            def copy_rows(rows: list[tuple]) -> list[int]:
                taken = [next(ids) for _row in rows]
                for row_id, row in zip(taken, rows, strict=True):
                    copy.write_row((row_id, *encrypted(row)))
                return taken

            yield copy_rows
        cursor.close()

    def _created(self, records: list, ids: list[int], link_spool) -> list[tuple]:
        """The audit entries of written new records, as (object_id, department_id, changes);
        their links go to the link spool."""
        links = [
            (row_id, record[3])
            for row_id, record in zip(ids, records, strict=True)
            if record[3] is not None
        ]
        if links:
            pickle.dump(links, link_spool, pickle.HIGHEST_PROTOCOL)
        if self._changes is None:
            self._changes = CreatedChanges(self.model, (*self._snapshot_keys, "items"))
        # The snapshot in _snapshot_keys order: the id, the record's values and the stamps.
        positions = self._snapshot_positions
        department = self.data_columns.index("department_id")
        changes = self._changes
        entries = []
        for row_id, record in zip(ids, records, strict=True):
            full = (row_id, *self._copy_values(record))
            snapshot = [full[index] for index in positions]
            snapshot.append(self.link_labels(record[3]) if record[3] else None)
            entries.append((str(row_id), record[2][department], changes(snapshot)))
        return entries

    def _update_old(self, connection, records: list, entries: list, result) -> bool:
        """Updates the records that changed, with an audit row each (the fields as [before,
        after], as the ORM's rows have them). False when a record vanished meanwhile."""
        table = self.model.__table__
        assigned = self.assigned
        ids = [record[1] for record in records]
        before = {
            row.id: row._mapping
            for row in connection.execute(
                select(table.c.id, table.c.department_id, *(table.c[a] for a in assigned)).where(
                    table.c.id.in_(ids)
                )
            )
        }
        links = self.load_links(connection, ids)
        position = {key: index for index, key in enumerate(self.data_columns)}
        # The blind indexes of the encrypted columns the file sets follow them (pass 1 filled
        # them in the records: validation.fill_blind_indexes).
        indexes = [
            index
            for column, index in getattr(self.model, "__blind_indexes__", {}).items()
            if column in assigned
        ]
        base = base_entry("update", table.name)
        model = self.model
        changed = []
        for number, row_id, values, extras in records:
            stored = before.get(row_id)
            if stored is None:
                result.add_error(number, DASH, _CHANGED_MEANWHILE)
                return False
            after = {attr: values[position[attr]] for attr in assigned}
            changes = {
                attr: [logged_value(model, attr, stored[attr]), logged_value(model, attr, value)]
                for attr, value in after.items()
                if stored[attr] != value
            }
            links_changed = self.link_changes(row_id, extras, links, changes)
            if not changes:
                continue
            if any(attr in changes for attr in assigned):
                changed.append(
                    {f"v_{attr}": value for attr, value in after.items()}
                    | {f"v_{index}": values[position[index]] for index in indexes}
                    | {"v_id": row_id}
                )
            department_id = after.get("department_id", stored["department_id"])
            entries.append(
                dict(
                    base, object_id=str(row_id), department_id=department_id, changes=dump(changes)
                )
            )
            if links_changed:
                self.replace_links(connection, row_id, extras, links)
        if changed:
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("v_id"))
                .values(
                    {attr: bindparam(f"v_{attr}") for attr in (*assigned, *indexes)}
                    | {"changed_on": self._now, "changed_by_fk": self._user_id}
                ),
                changed,
            )
        return True


def _take_ids(connection, table_name: str, n: int) -> list[int]:
    """n ids from the table's sequence, in one query."""
    return (
        connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table_name, "n": n},
        )
        .scalars()
        .all()
    )


class _CancelledImport(Exception):
    """Why the early COPY was cancelled (the file has a bad row)."""


class _EarlyCopy:
    """PostgreSQL: the new records of a file that is clean so far go into their table by one
    COPY while pass 1 is still checking the rest, so that the database stores and indexes
    them meanwhile. Inside a savepoint: the first bad row cancels the COPY and rolls the
    savepoint back (nothing written), and pass 1 goes on checking only. The ids are taken from
    the table's sequence a batch at a time on a second connection (nextval is outside any
    transaction; the import's own connection is busy with the COPY)."""

    SAVEPOINT = "dsr_import_records"

    def __init__(self, connection, table_name: str, columns: str, encrypted=None):
        self.connection = connection
        self.table_name = table_name
        self.encrypted = encrypted or (lambda row: row)  # Writing._copy_encrypter
        connection.exec_driver_sql(f"SAVEPOINT {self.SAVEPOINT}")
        self.sequence = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.cursor = connection.connection.driver_connection.cursor()
        self.block = self.cursor.copy(f"COPY {table_name} ({columns}) FROM STDIN")
        self.copy = self.block.__enter__()

    def write(self, rows: list[tuple]) -> list[int]:
        if not rows:
            return []
        ids = _take_ids(self.sequence, self.table_name, len(rows))
        write_row, encrypted = self.copy.write_row, self.encrypted
        for row_id, row in zip(ids, rows, strict=True):
            write_row((row_id, *encrypted(row)))
        return ids

    def finish(self) -> None:
        """Ends the COPY (the foreign keys are checked now); the records stay written."""
        self.block.__exit__(None, None, None)
        self._close()
        self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {self.SAVEPOINT}")

    def cancel(self, quiet: bool = False) -> None:
        """Takes back what was written. `quiet`: on the way out of an exception, which
        matters more than a failure here (the caller rolls the transaction back anyway)."""
        try:
            if self.copy is not None:
                self.block.__exit__(_CancelledImport, _CancelledImport("bad row"), None)
            self._close()
            self.connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {self.SAVEPOINT}")
            self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {self.SAVEPOINT}")
        except Exception:
            if not quiet:
                raise

    def _close(self) -> None:
        self.copy = None
        self.cursor.close()
        self.sequence.close()


def _spooled(spool, rewind: bool = False):
    """The batches pickled to a spool file, in order."""
    if rewind:
        spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return
