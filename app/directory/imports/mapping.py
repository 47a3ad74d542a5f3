"""The header row: which column of the file holds which of our fields."""

from __future__ import annotations

from flask_babel import gettext as _

from app.directory.imports.validation import DASH, ImportResult


class HeaderMapping:
    """The header row read once per file (a mixin of the importer)."""

    def _read_header(self, number: int, values: list, result: ImportResult) -> bool:
        by_name = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                by_name[name] = column
        seen: dict[str, int] = {}
        self.present = []
        for index, value in enumerate(values):
            name = value.strip().strip("*＊").strip() if isinstance(value, str) else ""
            column = by_name.get(name)
            if column is None:
                continue
            if column.attr in seen:
                result.add_error(
                    number,
                    column.header,
                    _("The column %(column)s appears twice in the header.", column=name),
                )
                continue
            seen[column.attr] = index
            self.present.append((index, column))
        missing = [c.header for c in self.columns if c.required and c.attr not in seen]
        for group in self.required_any:
            if not any(attr in seen for attr in group):
                missing.append("/".join(self.headers[attr] for attr in group))
        if missing:
            result.add_error(
                number,
                DASH,
                _(
                    "The header row lacks the required column(s) %(columns)s: start from the "
                    "downloadable template.",
                    columns="、".join(missing),
                ),
            )
        self.assigned = [c.attr for _i, c in self.present if c.type != "items"]
        self._limits = [
            (attr, self.headers[attr], self._max_length(attr))
            for attr in self.assigned
            if self._max_length(attr)
        ]
        return result.ok
