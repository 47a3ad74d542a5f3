"""Every CSV the system writes goes through the one neutralising writer, app/core/csvfile.py
(issue 15): formula and control-character cells neutralised, UTF-8 with BOM or GB18030,
streamed. The code walk fails for a new CSV path that writes with the csv module itself."""

import ast
import csv
import io
import re
from pathlib import Path

import pytest

from app.core.csvfile import csv_bytes, csv_chunks, neutralise

APP = Path(__file__).resolve().parents[2] / "app"
THE_WRITER = APP / "core" / "csvfile.py"
WRITERS = {"writer", "DictWriter"}


def csv_writer_uses(source: str) -> list[int]:
    """Lines that write CSV with the standard library's csv module (under any alias)."""
    tree = ast.parse(source)
    modules, names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "csv"}
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            names |= {a.asname or a.name for a in node.names if a.name in WRITERS | {"*"}}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "csv" and names:
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in WRITERS
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    "source",
    [
        "import csv\nw = csv.writer(out)",
        "import csv as c\nw = c.DictWriter(out, fields)",
        "def f():\n    import csv\n    csv.writer(out).writerow([1])",
        "from csv import writer\nwriter(out)",
        "from csv import DictWriter as W",
    ],
)
def test_the_walk_finds_a_csv_writer(source):
    assert csv_writer_uses(source)


def test_reading_csv_is_not_writing_it():
    assert csv_writer_uses("import csv\nrows = list(csv.reader(text))") == []


def test_no_csv_writer_outside_the_one_writer():
    found = {
        str(path.relative_to(APP.parent)): lines
        for path in sorted(APP.rglob("*.py"))
        if path != THE_WRITER and (lines := csv_writer_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"write CSV with app/core/csvfile.py, not the csv module: {found}"


# The second sanctioned writer, in the same module: PostgreSQL's COPY (csvfile.copy_chunks).
_COPY_OUT = re.compile(r"\bTO\s+STDOUT\b", re.IGNORECASE)
_COPY_IN = re.compile(r"\bFROM\s+STDIN\b", re.IGNORECASE)
_COPY_READS = {"get_copy_data", "copy", "copy_expert", "copy_to"}


def copy_out_uses(source: str) -> list[int]:
    """Lines that have the database write a file: a `COPY … TO STDOUT` statement, or reading
    COPY data from psycopg (`cursor.copy(…)`, `pgconn.get_copy_data`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _COPY_OUT.search(node.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attribute = node.func
            if attribute.attr not in _COPY_READS:
                continue
            if attribute.attr == "copy" and (
                not _called_on_a_cursor(attribute) or _copies_in(node)
            ):
                continue
            lines.append(node.lineno)
    return lines


def _copies_in(call: ast.Call) -> bool:
    # `cursor.copy("COPY t (…) FROM STDIN")` writes rows into the database (imports, the audit
    # log, a draw's selection): not a file written out.
    text = " ".join(
        part.value
        for arg in call.args[:1]
        for part in ([arg] if isinstance(arg, ast.Constant) else getattr(arg, "values", []))
        if isinstance(part, ast.Constant) and isinstance(part.value, str)
    )
    return bool(_COPY_IN.search(text))


def _called_on_a_cursor(node: ast.Attribute) -> bool:
    # `dict.copy()` / `list.copy()` are everywhere; a cursor's is `cur.copy("COPY …")`.
    return isinstance(node.value, ast.Name) and "cur" in node.value.id.lower()


@pytest.mark.parametrize(
    "source",
    [
        'sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"',
        "n, data = pgconn.get_copy_data(0)",
        'with cursor.copy("COPY t TO STDOUT") as c:\n    pass',
    ],
)
def test_the_walk_finds_a_copy(source):
    assert copy_out_uses(source)


@pytest.mark.parametrize(
    "source",
    [
        'with cursor.copy("COPY target (id, name) FROM STDIN") as c:\n    pass',
        'with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as c:\n    pass',
        "rows = values.copy()",
    ],
)
def test_the_walk_lets_copy_into_the_database_be(source):
    assert not copy_out_uses(source)


def test_no_copy_out_outside_the_one_writer():
    assert copy_out_uses(THE_WRITER.read_text(encoding="utf-8"))  # the walk sees the writer's
    found = {
        str(path.relative_to(APP.parent)): lines
        for path in sorted(APP.rglob("*.py"))
        if path != THE_WRITER and (lines := copy_out_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"let app/core/csvfile.copy_chunks run COPY, not your own code: {found}"


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+1+1",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1",
        "\r=1",
        "\n=1",
        "\x00=1",
        "\x0b=1",
        "\x1b[31m",
        "\x7f=1",
        -5,
    ],
)
def test_dangerous_cells_are_text(cell):
    assert neutralise(cell) == "'" + str(cell)


@pytest.mark.parametrize("cell", ["东胜区水务有限公司", "91150602MA0N000001", "1+1", "", None, 3])
def test_plain_cells_stay_as_they_are(cell):
    assert neutralise(cell) == ("" if cell is None else str(cell))


def test_bom_once_gb18030_and_streamed_in_chunks():
    rows = [[n, f"对象{n}", "=1"] for n in range(1200)]
    chunks = list(csv_chunks(["序号", "名称", "公式"], iter(rows)))
    assert len(chunks) >= 3  # streamed, not one piece
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode()) and data.count("\ufeff".encode()) == 1
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0] == ["序号", "名称", "公式"] and parsed[1200] == ["1199", "对象1199", "'=1"]
    gb = csv_bytes(["名称"], [["𠮷东胜"]], "gb18030")
    assert gb.decode("gb18030") == "名称\r\n𠮷东胜\r\n"
