"""Pass 1: the file read once, row by row, each row checked; while the file has no error the
checked rows are spooled (and on PostgreSQL the new ones copied into their table already)."""

from __future__ import annotations

import pickle

from app.core.uploads import TableFile
from app.directory.imports.validation import ImportResult, _blank
from app.directory.imports.writing import _EarlyCopy
from app.extensions import db

BATCH_SIZE = 1000  # rows spooled and written per batch
PROGRESS_EVERY = 1000  # rows between two progress calls of pass 1


def _no_progress(checked: int, written: int) -> None:
    pass


class Reading:
    """Pass 1 (a mixin of the importer)."""

    def _check_pass(self, table: TableFile, result: ImportResult, spool) -> None:
        """Pass 1: every row read (the only time the file is parsed), converted and checked;
        while the file has no error, the normalised rows go to the spool in batches."""
        header_seen = False
        fixed: dict = {}
        rows = table.rows()
        batch: list = []
        connection = db.session.connection()
        if self.copy_while_checking and connection.dialect.name == "postgresql":
            self._early = _EarlyCopy(
                connection,
                self.model.__table__.name,
                self._copy_columns(),
                self._copy_encrypter(),
            )
        try:
            for number, values in rows:
                if all(_blank(v) for v in values):
                    continue
                if not header_seen:
                    header_seen = True
                    if not self._read_header(number, values, result):
                        return
                    fixed = self.fixed_raw
                    continue
                raw = {
                    column.attr: values[index] if index < len(values) else ""
                    for index, column in self.read
                }
                if fixed:
                    raw.update(fixed)
                result.rows += 1
                record = self._validate_row(number, raw, result)
                if not result.ok:
                    self._stop_early_writes()
                elif record is not None:
                    batch.append(record)
                    if len(batch) >= BATCH_SIZE:
                        self._spool_batch(batch, spool)
                        batch = []
                if result.rows % PROGRESS_EVERY == 0:
                    self.progress(result.rows, 0)
        finally:
            rows.close()
        if batch and result.ok:
            self._spool_batch(batch, spool)
        self.progress(result.rows, 0)

    def _spool_batch(self, batch: list, spool) -> None:
        """A batch of checked records to the spool, with the ids of its new records when they
        were written already (PostgreSQL, while checking), else None."""
        ids = None
        new = [record for record in batch if record[1] is None]
        if self._early is not None:
            ids = self._early.write([self._copy_values(record) for record in new])
        else:
            self._new_count += len(new)
        pickle.dump((batch, ids), spool, pickle.HIGHEST_PROTOCOL)

    def _stop_early_writes(self) -> None:
        """The file has a bad row (or pass 1 needs the connection): the records written while
        checking are taken back, and the rest of the file is only checked."""
        if self._early is not None:
            self._early.cancel()
            self._early = None
