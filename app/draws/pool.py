"""The pool of a target draw, in one place: which targets a task's scope holds, which of them
the draw can take, in which stratum, what the draw's parameters say, and what the draw would
take today. The draw (app/draws/services.py), the pool preview of the task pages and the
dashboard's planned counts (app/planning/views.py, app/dashboard) and the benchmarks
(bench/draw.py) all read it from here; neither the planning nor the draw services import the
other for it.

Freezing a pool of a million targets (docs/draw-protocol.md §3 and §5, docs/performance.md):
on PostgreSQL the canonical pool JSON and its SHA-256 are built inside the database
(`string_agg` in id order, `sha256()`), and the selection is ranked there with the documented
`sha256(seed || convert_to(kind || chr(31) || stratum || chr(31) || id::text, 'UTF8'))`; the
bytes and digests are exactly those of app/draws/protocol.py (tests/draws/test_pool.py checks
both). SQLite and MariaDB build the same pool in Python."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import Text, case, cast, func, literal, literal_column, select, text, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.directory.models import LIVE_STATUS, Area, Target, split_multi, target_item
from app.draws import protocol
from app.extensions import db
from app.planning.models import RISK_STRATA, SPECIAL_STRATUM, SpotCheckTask

# --- the scope and the pool as queries ----------------------------------------------------------


def stratum_expression():
    """special for flagged or blacklisted targets (R9.7), else the credit-risk class."""
    return case(
        (Target.special_clause(), SPECIAL_STRATUM),
        else_=Target.risk_class,
    )


def scoped_targets(task: SpotCheckTask, *columns):
    """SELECT columns of the targets in the task's scope: of the lead or a participating
    department, matching types, areas, industries and risk classes (special targets always,
    R9.7), and subject to one of the task's items. Registration status is not filtered: the
    draw records the closed ones as exclusions."""
    departments = [task.department_id] + [d.id for d in task.participating_departments]
    query = select(*columns).where(Target.department_id.in_(departments))
    if task.target_types:
        query = query.where(Target.target_type.in_(split_multi(task.target_types)))
    if task.industries:
        query = query.where(Target.industry.in_(split_multi(task.industries)))
    if task.risk_classes:
        query = query.where(
            Target.risk_class.in_(split_multi(task.risk_classes)) | Target.special_clause()
        )
    if task.areas:
        query = query.where(
            Target.area_id.in_(select(Area.id).where(Area.name.in_(split_multi(task.areas))))
        )
    item_ids = [item.id for item in task.items]
    if item_ids:
        query = query.where(
            Target.id.in_(
                select(target_item.c.target_id).where(target_item.c.item_id.in_(item_ids))
            )
        )
    return query


def pool_query(task: SpotCheckTask, on_date: dt.date | None = None):
    """SELECT the ids of the drawable targets in the task's scope: live ones, and under the
    frequency rule not found clean recently unless special (the draw's own pool)."""
    from app.inspections.history import clean_since, clean_target_ids

    query = scoped_targets(task, Target.id).where(Target.registration_status == LIVE_STATUS)
    since = clean_since(task.skip_clean_months, on_date or dt.date.today())
    if since:
        query = query.where(Target.id.not_in(clean_target_ids(since)) | Target.special_clause())
    return query


# --- parameters, preview and counts -------------------------------------------------------------


def _ratio_bp(value) -> int:
    return int((value or 0) * 100)


def target_params(task: SpotCheckTask) -> dict:
    """The parameters of the task's target draw (before the draw adds `blacklisted`, its
    attempt and its entropy source)."""
    strata = {}
    for stratum in RISK_STRATA:
        ratio = _ratio_bp(task.ratio_for(stratum))
        strata[stratum] = {"ratio_bp": ratio, "min": 1 if ratio else 0, "max": None}
    ratio = _ratio_bp(task.ratio_special)
    strata[SPECIAL_STRATUM] = {"ratio_bp": ratio, "min": 1 if ratio else 0, "max": None}
    params = {
        "algorithm": protocol.ALGORITHM,
        "kind": "target",
        "task": task.number,
        "strata": strata,
    }
    if task.skip_clean_months:
        # Informational, under params_hash: the rule that produced `inspected_clean` exclusions.
        params["skip_clean_months"] = task.skip_clean_months
    return params


def _stratum_sizes(tasks: list[SpotCheckTask]) -> dict[int, dict[str, int]]:
    """{task id: {stratum: targets in its pool}}, for all the tasks in one grouped query."""
    sizes: dict[int, dict[str, int]] = {task.id: {} for task in tasks}
    if not tasks:
        return sizes
    # Label the stratum in a subquery and group by the label: PostgreSQL does not accept a
    # GROUP BY on a CASE whose bound parameters differ from the SELECT's.
    parts = [
        select(literal(task.id).label("task_id"), stratum_expression().label("stratum")).where(
            Target.id.in_(pool_query(task))
        )
        for task in tasks
    ]
    labelled = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    rows = db.session.execute(
        select(labelled.c.task_id, labelled.c.stratum, func.count()).group_by(
            labelled.c.task_id, labelled.c.stratum
        )
    )
    for task_id, stratum, n in rows:
        sizes[task_id][stratum] = n
    return sizes


def _preview(task: SpotCheckTask, sizes: dict[str, int]) -> list[dict]:
    counts = protocol.allocate(sizes, target_params(task)["strata"], bytes(32))
    preview = []
    for stratum in (*RISK_STRATA, SPECIAL_STRATUM):
        ratio = task.ratio_special if stratum == SPECIAL_STRATUM else task.ratio_for(stratum)
        preview.append(
            {
                "stratum": stratum,
                "pool": sizes.get(stratum, 0),
                "ratio": ratio,
                "to_draw": counts.get(stratum, 0),
            }
        )
    return preview


def pool_preview(task: SpotCheckTask) -> list[dict]:
    """Per stratum: targets in the pool, the ratio, and how many the draw would take. The
    counts come from the draw protocol's own allocation (largest remainder, at least one per
    stratum with a ratio); only a tie in the remainders, broken by the draw's seed, can make
    the draw differ by one between two strata."""
    return _preview(task, _stratum_sizes([task])[task.id])


def pool_counts(tasks) -> dict[int, int]:
    """{task id: how many targets its draw would take today} for several tasks with one
    grouped query (the dashboard's 应检查数 of tasks not drawn yet): the sum of
    pool_preview(task)'s `to_draw`, without a query per task."""
    tasks = list(tasks)
    sizes = _stratum_sizes(tasks)
    return {
        task.id: sum(row["to_draw"] for row in _preview(task, sizes[task.id])) for task in tasks
    }


# --- the pool of a draw -------------------------------------------------------------------------


def target_pool(
    task: SpotCheckTask, on_date: dt.date | None = None
) -> tuple[list[dict], list[dict]]:
    """The task's candidates [{"id", "stratum"}] and the excluded [{"id", "reason"}], both in
    id order: targets of the lead and participating departments matching the scope; not-live
    targets, and under the task's frequency rule targets found clean recently, are excluded
    with a reason code; flagged and blacklisted targets form the `special` stratum, the plan's
    highest ratio (R9.7, R12.2)."""
    from app.inspections.history import clean_checks_query, clean_since

    query = scoped_targets(
        task,
        Target.id,
        Target.risk_class,
        Target.special_clause().label("special"),
        Target.registration_status,
    ).order_by(Target.id)
    since = clean_since(task.skip_clean_months, on_date or dt.date.today())
    clean = dict(db.session.execute(clean_checks_query(since)).all()) if since else {}
    pool, excluded = [], []
    for target_id, risk, special, status in db.session.execute(query):
        if status != LIVE_STATUS:
            excluded.append({"id": target_id, "reason": f"not_live:{status}"})
            continue
        if not special and target_id in clean:
            # Frequency rule: found without problems recently (special targets never skip).
            excluded.append({"id": target_id, "reason": f"inspected_clean:{clean[target_id]}"})
            continue
        pool.append({"id": target_id, "stratum": SPECIAL_STRATUM if special else risk})
    return pool, excluded


def blacklisted_in(pool: list[dict]) -> list[int]:
    """The pool's targets on the dishonesty blacklist (all in the special stratum), sorted:
    the draw's parameters state them (R12.2)."""
    special = [c["id"] for c in pool if c["stratum"] == SPECIAL_STRATUM]
    listed: set[int] = set()
    for start in range(0, len(special), 1000):  # IN lists stay short on every database
        chunk = special[start : start + 1000]
        listed.update(
            db.session.scalars(
                select(Target.id).where(Target.id.in_(chunk), Target.listed_on.is_not(None))
            )
        )
    return sorted(listed)


@dataclass
class FrozenPool:
    """A target pool as a draw freezes it: the canonical pool JSON (`text`, the bytes the draw
    stores and hashes), its SHA-256, the candidates per stratum, the excluded and the
    blacklisted targets of the special stratum. `candidates` (canonical_pool's output) is
    there when the pool was built in Python; on PostgreSQL it stays in the database."""

    text: str
    pool_hash: str
    sizes: dict[str, int]
    excluded: list[dict]
    blacklisted: list[int]
    candidates: list[dict] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return sum(self.sizes.values())


def in_database(session=None) -> bool:
    """Whether pools are frozen and ranked inside the database (PostgreSQL)."""
    return (session or db.session).get_bind().dialect.name == "postgresql"


def freeze_target_pool(task: SpotCheckTask, on_date: dt.date | None = None) -> FrozenPool:
    """The task's pool, frozen: built inside PostgreSQL, in Python elsewhere (the same bytes)."""
    if in_database():
        frozen = _freeze_in_database(task, on_date)
        if frozen is not None:
            return frozen
    pool, excluded = target_pool(task, on_date)
    candidates = protocol.canonical_pool(pool)
    pool_text = protocol.encode_pool(candidates).decode("utf-8")
    sizes: dict[str, int] = {}
    for candidate in candidates:
        sizes[candidate["stratum"]] = sizes.get(candidate["stratum"], 0) + 1
    return FrozenPool(
        text=pool_text,
        pool_hash=protocol.sha256_hex(pool_text.encode("utf-8")),
        sizes=sizes,
        excluded=excluded,
        blacklisted=blacklisted_in(candidates),
        candidates=candidates,
    )


def _classified(task: SpotCheckTask, on_date: dt.date | None):
    """A subquery of the scoped targets with what the draw decides on: id, stratum, whether
    it is drawable (`drawable`), blacklisted, its registration status and its latest clean
    check (for the exclusion reasons)."""
    from app.inspections.history import clean_checks_query, clean_since

    special = Target.special_clause()
    since = clean_since(task.skip_clean_months, on_date or dt.date.today())
    columns = [
        Target.id.label("id"),
        case((special, SPECIAL_STRATUM), else_=Target.risk_class).label("stratum"),
        special.label("special"),
        Target.listed_on.is_not(None).label("listed"),
        Target.registration_status.label("status"),
    ]
    if since:
        clean = clean_checks_query(since).subquery()
        clean_on = clean.c[1]
        query = scoped_targets(task, *columns, clean_on.label("clean_on")).outerjoin(
            clean, clean.c.target_id == Target.id
        )
    else:
        query = scoped_targets(task, *columns, literal(None).label("clean_on"))
    return query.subquery()


def _freeze_in_database(task: SpotCheckTask, on_date: dt.date | None) -> FrozenPool | None:
    """The pool built by PostgreSQL; None when a stratum would not pass the protocol's checks
    (the Python path then refuses it with the protocol's own message)."""
    scoped = _classified(task, on_date)
    drawable = (scoped.c.status == LIVE_STATUS) & (
        scoped.c.special | scoped.c.clean_on.is_(None)
    )
    session = db.session
    excluded = [
        {"id": target_id, "reason": f"not_live:{status}"}
        if status != LIVE_STATUS
        else {"id": target_id, "reason": f"inspected_clean:{clean_on}"}
        for target_id, status, clean_on in session.execute(
            select(scoped.c.id, scoped.c.status, scoped.c.clean_on)
            .where(~drawable)
            .order_by(scoped.c.id)
        )
    ]
    sizes = dict(
        session.execute(
            select(scoped.c.stratum, func.count()).where(drawable).group_by(scoped.c.stratum)
        ).all()
    )
    for stratum in sizes:
        if type(stratum) is not str or not stratum or protocol.SEP in stratum:
            return None
    blacklisted = list(
        session.scalars(
            select(scoped.c.id)
            .where(drawable, scoped.c.special, scoped.c.listed)
            .order_by(scoped.c.id)
        )
    )
    if not sizes:
        return FrozenPool("[]", protocol.sha256_hex(b"[]"), {}, excluded, blacklisted, [])
    # Each stratum's JSON text as Python writes it (a handful of names), then the entries in
    # id order: the bytes of protocol.encode_pool, hashed by the database.
    encoded = case(
        {name: json.dumps(name, ensure_ascii=False) for name in sizes},
        value=scoped.c.stratum,
    )
    entry = literal('{"id":') + cast(scoped.c.id, Text) + literal(',"stratum":')
    entry = entry + encoded + literal("}")
    joined = func.string_agg(entry, aggregate_order_by(literal_column("','"), scoped.c.id))
    agg = select((literal("[") + joined + literal("]")).label("pool")).where(drawable).subquery()
    session.execute(text(_WORK_MEM))
    pool_text, digest = session.execute(
        select(agg.c.pool, func.encode(func.sha256(func.convert_to(agg.c.pool, "UTF8")), "hex"))
    ).one()
    session.execute(text("RESET work_mem"))
    return FrozenPool(pool_text, digest, sizes, excluded, blacklisted)


# --- ranking inside PostgreSQL ------------------------------------------------------------------

# The frozen pool's entries as rows, read from its stored canonical JSON with string functions
# (json_to_recordset takes about four times as long for a million entries). The text is
# `[{"id":<id>,"stratum":<JSON string>},…]`: cutting it at `},{"id":` is exact, for a JSON
# string holds no unescaped quote, and each piece is `<id>,"stratum":<JSON string>`.
_ENTRIES = (
    "SELECT split_part(e, ',', 1)::bigint AS id, substr(e, strpos(e, ',') + 11) AS encoded"
    " FROM draw d, string_to_table(rtrim(ltrim(d.pool, '[{\"id:'), '}]'), '},{\"id\":') AS e"
    " WHERE d.id = :draw AND d.pool <> '[]'"
)
# Sorting and materialising a million rows stays in memory (the default is 4 MB).
_WORK_MEM = "SET LOCAL work_mem = '64MB'"


def _encoded(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def frozen_sizes_in_database(draw_id: int, strata, pool_size: int) -> dict[str, int]:
    """{stratum: candidates} of a draw's frozen pool, counted in its stored JSON: the entries
    of a stratum are the occurrences of `,"stratum":<its JSON string>}` (exactly one per
    entry, the key's quote being unescaped). `strata` are the names to look for (the
    parameters'); when they do not account for all `pool_size` entries the entries are read
    and grouped instead."""
    names = sorted(strata)
    if names:
        columns = ", ".join(
            f"(length(pool) - length(replace(pool, :p{i}, ''))) / length(:p{i})"
            for i in range(len(names))
        )
        params = {f"p{i}": f',"stratum":{_encoded(name)}}}' for i, name in enumerate(names)}
        row = db.session.execute(
            text(f"SELECT {columns} FROM draw WHERE id = :draw"), {"draw": draw_id, **params}
        ).one()
        sizes = {name: n for name, n in zip(names, row, strict=True) if n}
        if sum(sizes.values()) == pool_size:
            return sizes
    rows = db.session.execute(
        text(f"SELECT encoded, count(*) FROM ({_ENTRIES}) AS f GROUP BY encoded"),
        {"draw": draw_id},
    )
    return {json.loads(encoded): n for encoded, n in rows}


def _ranked(counts: dict[str, int], seed: bytes) -> tuple[str, dict]:
    """The SQL of the `ranked` rows (stratum, id, position, rank_key) of a draw's frozen pool:
    per stratum with a count, the first `counts[stratum]` by rank key
    sha256(seed || convert_to('target' || chr(31) || stratum || chr(31) || id::text, 'UTF8')),
    ascending, ties by id; and its parameters (`:draw` left to the caller)."""
    wanted = sorted((name, n) for name, n in counts.items() if n > 0)
    key = (
        "sha256(CAST(:seed AS bytea) || convert_to('target' || chr(31) || w.stratum"
        " || chr(31) || f.id::text, 'UTF8'))"
    )
    values = ", ".join(
        f"(CAST(:s{i} AS text), CAST(:e{i} AS text), CAST(:n{i} AS integer))"
        for i in range(len(wanted))
    )
    params: dict = {"seed": seed}
    for i, (name, n) in enumerate(wanted):
        params[f"s{i}"], params[f"e{i}"], params[f"n{i}"] = name, _encoded(name), n
    sql = f"""
        WITH f AS MATERIALIZED ({_ENTRIES}),
        ranked AS (
            SELECT w.stratum, r.id, r.position, r.rank_key
            FROM (VALUES {values}) AS w(stratum, encoded, n)
            CROSS JOIN LATERAL (
                SELECT t.id, t.rank_key,
                       row_number() OVER (ORDER BY t.rank_key, t.id) AS position
                FROM (
                    SELECT f.id, {key} AS rank_key FROM f WHERE f.encoded = w.encoded
                    ORDER BY rank_key, f.id LIMIT w.n
                ) AS t
            ) AS r
        )
    """
    return sql, params


def ranked_in_database(draw_id: int, counts: dict[str, int], seed: bytes) -> list[tuple]:
    """(stratum, id, position, rank key as hex) of the first `counts[stratum]` candidates of
    each stratum of a draw's frozen pool, ranked inside PostgreSQL (what
    insert_selection_in_database writes; the tests compare it with protocol.py)."""
    if not any(n > 0 for n in counts.values()):
        return []
    sql, params = _ranked(counts, seed)
    rows = db.session.execute(
        text(sql + "SELECT stratum, id, position, encode(rank_key, 'hex') FROM ranked"),
        {"draw": draw_id, **params},
    ).all()
    return sorted((tuple(row) for row in rows), key=lambda r: (r[0], r[2]))


def insert_selection_in_database(
    draw_id: int, task_id: int, counts: dict[str, int], seed: bytes
) -> dict[str, list[int]]:
    """Rank a draw's frozen pool per stratum inside PostgreSQL (`_ranked`) and write the
    selection rows in the same statement. Returns the selection per stratum in rank order,
    as protocol.select_targets does (every stratum of `counts`, drawn or not)."""
    selection: dict[str, list[int]] = {name: [] for name in sorted(counts)}
    if not any(n > 0 for n in counts.values()):
        return selection
    sql, params = _ranked(counts, seed)
    sql += """
        INSERT INTO drawn_target (draw_id, task_id, target_id, stratum, rank)
        SELECT :draw, :task, id, stratum, position FROM ranked
        RETURNING stratum, target_id, rank
    """
    db.session.execute(text(_WORK_MEM))
    rows = db.session.execute(text(sql), {"draw": draw_id, "task": task_id, **params}).all()
    db.session.execute(text("RESET work_mem"))
    for stratum, target_id, _position in sorted(rows, key=lambda r: (r[0], r[2])):
        selection[stratum].append(target_id)
    return selection
