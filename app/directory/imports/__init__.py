"""Bulk import of 一单两库 from the bureau's spreadsheets: targets (检查对象名录), inspectors
(执法检查人员名录) and items (随机抽查事项清单), from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or
XLSX, through the upload page and `flask import targets|inspectors|items FILE`.

Rules:
- All or nothing per file. Pass 1 reads every row, converts and checks it with the same service
  rules as the forms (`services.check_*` with `check_unique=False`) and keeps only the keys needed
  for duplicate detection; if any row is bad nothing is written and every bad row is reported
  with its spreadsheet row number (the header is row 1), its column (the Chinese header) and a
  reason. While the file is clean, pass 1 spools the normalised rows to a temporary file: the
  file is parsed once. Pass 2 writes from the spool in the caller's transaction, with Core
  statements (one COPY of the new records on PostgreSQL, batched inserts elsewhere) and the
  per-record audit rows in bulk (docs/performance.md, "Bulk import").
- Upsert: a row whose key (USCC, or the citizen ID number of a 自然人; certificate number; item
  code) matches an existing record updates it; two rows of one file with the same key are an
  error. Existing keys are loaded in one query per import, not one per row.
- The row is the whole record: a column missing from the header is left unchanged on update, an
  empty cell empties the field (or sets the column's default: 存续, B, 在岗, 一般).
- Published items change only through a revision, never through an impo

The package follows the seams of an import: `reading` (pass 1, the file read once),
`mapping` (the header row), `validation` (the columns and the checks of a row), `writing`
(pass 2), `importers` (each kind, `import_file`), `templates`.
"""

from app.directory.imports.importers import (
    COLUMNS,
    IMPORTERS,
    KIND_LABELS,
    KINDS,
    SHEET_TITLES,
    InspectorImporter,
    ItemImporter,
    TargetImporter,
    _Importer,
    import_file,
    record_refusal,
)
from app.directory.imports.reading import BATCH_SIZE, PROGRESS_EVERY
from app.directory.imports.templates import template_csv, template_xlsx
from app.directory.imports.validation import (
    DASH,
    INSPECTOR_COLUMNS,
    ITEM_COLUMNS,
    MAX_ERRORS,
    TARGET_COLUMNS,
    Column,
    ImportResult,
    RowError,
    column_note,
    parse_date,
)

__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "DASH",
    "IMPORTERS",
    "INSPECTOR_COLUMNS",
    "ITEM_COLUMNS",
    "KIND_LABELS",
    "KINDS",
    "MAX_ERRORS",
    "PROGRESS_EVERY",
    "SHEET_TITLES",
    "TARGET_COLUMNS",
    "Column",
    "ImportResult",
    "InspectorImporter",
    "ItemImporter",
    "RowError",
    "TargetImporter",
    "_Importer",
    "column_note",
    "import_file",
    "record_refusal",
    "parse_date",
    "template_csv",
    "template_xlsx",
]
