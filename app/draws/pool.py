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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    Date,
    Text,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import selectinload

from app.directory.models import LIVE_STATUS, Area, Target, split_multi, target_item
from app.draws import protocol
from app.draws.models import draw_pool_stratum
from app.extensions import db
from app.planning.models import RISK_STRATA, SPECIAL_STRATUM, SpotCheckTask

# --- the scope and the pool as queries ----------------------------------------------------------


def stratum_expression():
    """special for flagged or blacklisted targets (R9.7), else the credit-risk class."""
    return case(
        (Target.special_clause(), SPECIAL_STRATUM),
        else_=Target.risk_class,
    )


@dataclass(frozen=True)
class Scope:
    """Everything of a task that its pool depends on (the targets aside): two tasks with equal
    scopes have the same pool on a day, whatever their ratios (pool_counts counts it once)."""

    departments: tuple[int, ...]  # the lead and the participating departments, sorted
    # The task's lists as split_multi reads them; None: the task leaves the field empty.
    target_types: tuple[str, ...] | None
    industries: tuple[str, ...] | None
    risk_classes: tuple[str, ...] | None
    areas: tuple[str, ...] | None
    item_ids: tuple[int, ...]  # sorted
    skip_clean_months: int | None


def _listed(value: str | None) -> tuple[str, ...] | None:
    return tuple(split_multi(value)) if value else None


def task_scope(task: SpotCheckTask) -> Scope:
    departments = {task.department_id} | {d.id for d in task.participating_departments}
    return Scope(
        departments=tuple(sorted(departments)),
        target_types=_listed(task.target_types),
        industries=_listed(task.industries),
        risk_classes=_listed(task.risk_classes),
        areas=_listed(task.areas),
        item_ids=tuple(sorted(item.id for item in task.items)),
        skip_clean_months=task.skip_clean_months,
    )


def _scoped(scope: Scope, *columns):
    query = select(*columns).where(Target.department_id.in_(scope.departments))
    if scope.target_types is not None:
        query = query.where(Target.target_type.in_(scope.target_types))
    if scope.industries is not None:
        query = query.where(Target.industry.in_(scope.industries))
    if scope.risk_classes is not None:
        query = query.where(Target.risk_class.in_(scope.risk_classes) | Target.special_clause())
    if scope.areas is not None:
        query = query.where(Target.area_id.in_(select(Area.id).where(Area.name.in_(scope.areas))))
    if scope.item_ids:
        query = query.where(
            Target.id.in_(
                select(target_item.c.target_id).where(target_item.c.item_id.in_(scope.item_ids))
            )
        )
    return query


def scoped_targets(task: SpotCheckTask, *columns):
    """SELECT columns of the targets in the task's scope: of the lead or a participating
    department, matching types, areas, industries and risk classes (special targets always,
    R9.7), and subject to one of the task's items. Registration status is not filtered: the
    draw records the closed ones as exclusions."""
    return _scoped(task_scope(task), *columns)


def scope_loaded():
    """Loader options for tasks whose pools are counted together (pool_counts): what
    task_scope reads of a task, its items and participating departments, in one statement
    each for all the tasks instead of two lazy loads per task."""
    return (
        selectinload(SpotCheckTask.items),
        selectinload(SpotCheckTask.participating_departments),
    )


def _drawable(scope: Scope, on_date: dt.date | None, *columns):
    from app.inspections.history import clean_since, clean_target_ids

    query = _scoped(scope, *columns).where(Target.registration_status == LIVE_STATUS)
    since = clean_since(scope.skip_clean_months, on_date or dt.date.today())
    if since:
        query = query.where(Target.id.not_in(clean_target_ids(since)) | Target.special_clause())
    return query


def pool_query(task: SpotCheckTask, on_date: dt.date | None = None):
    """SELECT the ids of the drawable targets in the task's scope: live ones, and under the
    frequency rule not found clean recently unless special (the draw's own pool)."""
    return _drawable(task_scope(task), on_date, Target.id)


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
    """{task id: {stratum: targets in its pool}}, for all the tasks in one grouped query that
    counts each distinct scope once (a department's tasks often share theirs)."""
    scopes = {task.id: task_scope(task) for task in tasks}
    distinct = list(dict.fromkeys(scopes.values()))
    if not distinct:
        return {}
    # Label the stratum in a subquery and group by the label: PostgreSQL does not accept a
    # GROUP BY on a CASE whose bound parameters differ from the SELECT's.
    parts = [
        _drawable(scope, None, literal(n).label("scope"), stratum_expression().label("stratum"))
        for n, scope in enumerate(distinct)
    ]
    labelled = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    by_scope: list[dict[str, int]] = [{} for _ in distinct]
    rows = db.session.execute(
        select(labelled.c.scope, labelled.c.stratum, func.count()).group_by(
            labelled.c.scope, labelled.c.stratum
        )
    )
    for n, stratum, count in rows:
        by_scope[n][stratum] = count
    index = {scope: n for n, scope in enumerate(distinct)}
    return {task_id: dict(by_scope[index[scope]]) for task_id, scope in scopes.items()}


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
    pool_preview(task)'s `to_draw`, without a query per task (load the tasks with
    scope_loaded(): their items and departments are read for each)."""
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
    stores and hashes), its SHA-256, its size, the excluded and the blacklisted targets of the special stratum. `candidates` (canonical_pool's output) is
    there when the pool was built in Python; on PostgreSQL it stays in the database."""

    text: str | None  # None: built by PostgreSQL, left there (frozen_text())
    pool_hash: str
    size: int
    excluded: list[dict]
    blacklisted: list[int]
    candidates: list[dict] | None = field(default=None, repr=False)


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
    return FrozenPool(
        text=pool_text,
        pool_hash=protocol.sha256_hex(pool_text.encode("utf-8")),
        size=len(candidates),
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


# The strata whose JSON string is the name in quotes (no character to escape): freezing writes
# these without calling to_json per candidate.
_PLAIN_STRATA = tuple(
    name
    for name in (*RISK_STRATA, SPECIAL_STRATUM)
    if json.dumps(name, ensure_ascii=False) == f'"{name}"'
)


def _in_pool(classified):
    """Whether a row of _classified is drawable: live, and not found clean recently unless
    special."""
    return (classified.c.status == LIVE_STATUS) & (
        classified.c.special | classified.c.clean_on.is_(None)
    )


def _freeze_in_database(task: SpotCheckTask, on_date: dt.date | None) -> FrozenPool | None:
    """The pool built by PostgreSQL in one statement, so of one snapshot: the pool's text,
    hash and size; its candidates per stratum as bigint[] arrays; the excluded targets (with
    what their reasons say) and the blacklisted ones. None when a stratum would not pass the
    protocol's checks (the Python path then refuses it with the protocol's own message)."""
    scoped = _classified(task, on_date)
    drawable = _in_pool(scoped)
    session = db.session
    # The entries in id order, each stratum as JSON text: PostgreSQL's to_json escapes what
    # Python's json.dumps(ensure_ascii=False) escapes, the same way (`"`, `\`, control
    # characters), so these are the bytes of protocol.encode_pool, hashed by the database.
    # Each entry's tail `,"stratum":<JSON string>}` is a constant for the usual strata (two
    # concatenations per candidate instead of five).
    tail = case(
        {name: literal(f',"stratum":"{name}"}}') for name in _PLAIN_STRATA},
        value=scoped.c.stratum,
        else_=literal(',"stratum":') + cast(func.to_json(scoped.c.stratum), Text) + literal("}"),
    )
    entry = literal('{"id":') + cast(scoped.c.id, Text) + tail
    joined = func.string_agg(entry, aggregate_order_by(literal_column("','"), scoped.c.id))
    invalid = (
        scoped.c.stratum.is_(None)
        | (scoped.c.stratum == "")
        | (func.strpos(scoped.c.stratum, protocol.SEP) > 0)
    )
    ids, texts, dates = ARRAY(BigInteger), ARRAY(Text), ARRAY(Date)
    whole = select(
        literal(0).label("part"),
        cast(literal(None), Text).label("stratum"),
        (literal("[") + func.coalesce(joined, "") + literal("]")).label("pool"),
        func.count().label("size"),
        func.count().filter(invalid).label("invalid"),
        cast(literal(None), ids).label("ids"),
        cast(literal(None), ids).label("out_ids"),
        cast(literal(None), texts).label("out_status"),
        cast(literal(None), dates).label("out_clean"),
        cast(literal(None), ids).label("listed"),
    ).where(drawable)
    # Per stratum, for the ranking that completes the draw and for the draw's parameters: a
    # second scan of the same subquery in the same statement, so of the same snapshot (one
    # statement, one snapshot under READ COMMITTED): the arrays hold exactly the pool the text
    # holds, and the excluded are exactly the scoped targets it leaves out.
    again = _classified(task, on_date)
    in_pool = _in_pool(again)
    target_id = cast(again.c.id, BigInteger)
    per_stratum = select(
        literal(1),
        cast(again.c.stratum, Text),
        cast(literal(None), Text),
        func.count().filter(in_pool),
        literal(0, BigInteger),
        func.array_agg(target_id).filter(in_pool),
        func.array_agg(target_id).filter(~in_pool),
        func.array_agg(again.c.status).filter(~in_pool),
        func.array_agg(cast(again.c.clean_on, Date)).filter(~in_pool),
        func.array_agg(target_id).filter(in_pool & again.c.special & again.c.listed),
    ).group_by(again.c.stratum)
    # Left in the database, in a temporary table the draw's INSERT reads (frozen_text) and
    # store_strata copies: a pool of a million is tens of megabytes that Python need not hold.
    statement = union_all(whole, per_stratum).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    connection = session.connection()
    # The id-ordered aggregate of a million entries sorts about 100 MB: in memory, not on disk.
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    # The temporary table's values (the text, 27 MB for a million, and the arrays) are
    # compressed once here and copied as they are into draw.pool and draw_pool_stratum: with
    # lz4 where the server has it, which halves the statement's time against pglz (the
    # default) for a fifth more bytes.
    if _has_lz4(connection):
        session.execute(text("SET LOCAL default_toast_compression = 'lz4'"))
    # A plan this simple gains nothing from JIT compilation, which the cost of scanning a
    # million rows would start (tens of milliseconds).
    session.execute(text("SET LOCAL jit = off"))
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_TEXT_TABLE}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_TEXT_TABLE} ON COMMIT DROP AS {statement}",
        statement.params,
    )
    session.execute(text("RESET work_mem"))
    session.execute(text("RESET default_toast_compression"))
    session.execute(text("RESET jit"))
    digest, size, invalid_count = session.execute(
        text(
            "SELECT encode(sha256(convert_to(pool, 'UTF8')), 'hex'), size, invalid"
            f" FROM {_TEXT_TABLE} WHERE part = 0"
        )
    ).one()
    if invalid_count:
        release_frozen_text()
        return None
    excluded, blacklisted = [], []
    for out_ids, out_status, out_clean, listed in session.execute(
        text(f"SELECT out_ids, out_status, out_clean, listed FROM {_TEXT_TABLE} WHERE part = 1")
    ):
        blacklisted.extend(listed or ())
        for cid, status, clean_on in zip(
            out_ids or (), out_status or (), out_clean or (), strict=True
        ):
            reason = (
                f"not_live:{status}" if status != LIVE_STATUS else f"inspected_clean:{clean_on}"
            )
            excluded.append({"id": cid, "reason": reason})
    excluded.sort(key=lambda entry: entry["id"])
    return FrozenPool(None, digest, size, excluded, sorted(blacklisted))


_TEXT_TABLE = "dsr_frozen_pool"


def _has_lz4(connection) -> bool:
    """Whether the server was built with lz4 (PostgreSQL 14 and later can be), asked once per
    engine."""
    engine = connection.engine
    known = _LZ4.get(engine.url)
    if known is None:
        known = _LZ4[engine.url] = bool(
            connection.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'"
            ).scalar()
        )
    return known


_LZ4: dict = {}


def frozen_text():
    """The SQL of the pool text _freeze_in_database left in the database, for the INSERT of
    the draw (FrozenPool.text is None then)."""
    return (
        select(literal_column("pool"))
        .select_from(text(_TEXT_TABLE))
        .where(literal_column("part") == 0)
        .scalar_subquery()
    )


def store_strata(draw_id: int) -> None:
    """Once the draw row holds the pool text: keep its candidates per stratum for the ranking
    (draw_pool_stratum) and drop the temporary table."""
    db.session.execute(
        text(
            "INSERT INTO draw_pool_stratum (draw_id, stratum, ids)"
            f" SELECT :draw, stratum, ids FROM {_TEXT_TABLE} WHERE part = 1 AND ids IS NOT NULL"
        ),
        {"draw": draw_id},
    )
    release_frozen_text()


def release_frozen_text() -> None:
    """Drop the temporary pool text."""
    db.session.execute(text(f"DROP TABLE IF EXISTS {_TEXT_TABLE}"))


def release_strata(draw_id: int) -> None:
    """The draw is done or cancelled: its candidates per stratum are no longer needed."""
    db.session.execute(delete(draw_pool_stratum).where(draw_pool_stratum.c.draw_id == draw_id))


# --- ranking inside PostgreSQL ------------------------------------------------------------------

# A draw committed before its strata were kept (revision 0017) is ranked from its stored
# canonical JSON, read back with string functions (json_to_recordset takes about four times as
# long for a million entries). The text is `[{"id":<id>,"stratum":<JSON string>},…]`: cutting it
# at `},{"id":` is exact, for a JSON string holds no unescaped quote, and each piece is
# `<id>,"stratum":<JSON string>`.
_ENTRIES = (
    "SELECT split_part(e, ',', 1)::bigint AS id, substr(e, strpos(e, ',') + 11) AS encoded"
    " FROM draw d, string_to_table(rtrim(ltrim(d.pool, '[{\"id:'), '}]'), '},{\"id\":') AS e"
    " WHERE d.id = :draw AND d.pool <> '[]'"
)
# Grouping and sorting a million rows stays in memory (the default is 4 MB).
_WORK_MEM = "SET LOCAL work_mem = '64MB'"
# Nor does the ranking's plan gain from JIT compilation.
_NO_JIT = "SET LOCAL jit = off"


def _stratum_sizes_of(draw_id: int) -> dict[str, int]:
    return dict(
        db.session.execute(
            text("SELECT stratum, cardinality(ids) FROM draw_pool_stratum WHERE draw_id = :draw"),
            {"draw": draw_id},
        ).all()
    )


def _strata_of(draw_id: int, pool_size: int | None) -> tuple[dict[str, int], bool]:
    """Make sure draw_pool_stratum holds the draw's candidates: rebuilt from the stored JSON
    when they are missing (a draw committed before revision 0017) or do not add up to the
    pool's size. Their sizes per stratum, and whether they were rebuilt (in this transaction,
    seen by no other)."""
    sizes = _stratum_sizes_of(draw_id)
    if sizes and (pool_size is None or sum(sizes.values()) == pool_size):
        return sizes, False
    release_strata(draw_id)
    db.session.execute(
        text(
            "INSERT INTO draw_pool_stratum (draw_id, stratum, ids)"
            " SELECT :draw, encoded::json #>> '{}', array_agg(id)"
            f" FROM ({_ENTRIES}) AS f GROUP BY encoded"
        ),
        {"draw": draw_id},
    )
    return _stratum_sizes_of(draw_id), True


# A pool this large is ranked by two database processes at once (a second connection ranks
# about half the strata): the SHA-256 of every candidate is most of a draw's time.
PARALLEL_RANKING_MIN = 100_000


def _ranking_sql(bounds: list[tuple[str, int, int]], names: list[str]) -> tuple[str, dict]:
    """The ranking statement for the strata `names` of a draw (parameters :draw and :seed to
    be added): rows (stratum, size, id, position, rank key as hex)."""
    params: dict = {"names": names}
    values = []
    for i, (name, ratio, low) in enumerate(bounds):
        values.append(f"(CAST(:n{i} AS text), CAST(:r{i} AS bigint), CAST(:m{i} AS bigint))")
        params[f"n{i}"], params[f"r{i}"], params[f"m{i}"] = name, ratio, low
    spec = (
        f"(VALUES {', '.join(values)}) AS p(name, ratio_bp, low)"
        if values
        else "(SELECT NULL::text AS name, 0::bigint AS ratio_bp, 0::bigint AS low) AS p"
    )
    # MATERIALIZED: the size and the prefix are computed once per stratum, and the array is not
    # read again for every row the ranking returns (inlined, `cardinality(ids)` in the output
    # detoasted a stratum's array once per selected target). textsend(id::text): the id's
    # decimal digits as bytes, what convert_to(…, 'UTF8') gives for ASCII, without a
    # conversion per candidate.
    sql = f"""
        WITH g AS MATERIALIZED (
            SELECT s.stratum AS name, s.ids, cardinality(s.ids) AS size,
                   CAST(:seed AS bytea) || convert_to('target' || chr(31) || s.stratum
                       || chr(31), 'UTF8') AS prefix
            FROM draw_pool_stratum s
            WHERE s.draw_id = :draw AND s.stratum = ANY(CAST(:names AS text[]))
        )
        SELECT g.name, g.size, r.id, r.position, encode(r.rank_key, 'hex')
        FROM g LEFT JOIN {spec} ON p.name = g.name
        CROSS JOIN LATERAL (
            SELECT t.id, t.rank_key, row_number() OVER (ORDER BY t.rank_key, t.id) AS position
            FROM (
                SELECT u.id, sha256(g.prefix || textsend(u.id::text)) AS rank_key
                FROM unnest(g.ids) AS u(id)
                ORDER BY rank_key, u.id
                LIMIT least(g.size, greatest(g.size * coalesce(p.ratio_bp, 0) / 10000 + 1,
                                             coalesce(p.low, 0)))
            ) AS t
        ) AS r
    """
    return sql, params


def _rank_on_own_connection(engine, sql: str, params: dict) -> list[tuple]:
    """The ranking of some strata on a connection of its own (read only, committed rows)."""
    with engine.connect() as connection:
        connection.execute(text(_WORK_MEM))
        connection.execute(text(_NO_JIT))
        rows = [tuple(row) for row in connection.execute(text(sql), params)]
        connection.rollback()
    return rows


def _halves(sizes: dict[str, int]) -> tuple[list[str], list[str]]:
    """The strata in two groups of about equal size (largest first, each to the lighter)."""
    groups: tuple[list[str], list[str]] = ([], [])
    weight = [0, 0]
    for name in sorted(sizes, key=lambda n: (-sizes[n], n)):
        lighter = 0 if weight[0] <= weight[1] else 1
        groups[lighter].append(name)
        weight[lighter] += sizes[name]
    return groups


def ranked_in_database(
    draw_id: int, strata: dict[str, dict], seed: bytes, pool_size: int | None = None
) -> list[tuple]:
    """A draw's frozen pool ranked inside PostgreSQL: per stratum its size and, in rank
    order, the head of its ranking (rank key sha256(seed || convert_to('target' || chr(31) ||
    stratum || chr(31) || id::text, 'UTF8')), ascending, ties by id), as rows (stratum, size,
    id, position, rank key as hex). The candidates are read from draw_pool_stratum (the
    arrays frozen with the pool), the hashed prefix `seed || 'target' 0x1F stratum 0x1F` built
    once per stratum. A large pool whose strata were committed with the draw (a witnessed
    draw, completed in a later request) is ranked half on a second connection, at the same
    time; strata that connection does not see as this transaction does are ranked here.

    The head is long enough for any allocation (docs/draw-protocol.md §8): a stratum gets
    floor(quota) or one more, raised to its `min`, lowered to its `max` and its size, so at
    most max(floor(size * ratio_bp / 10000) + 1, min), never more than size; a stratum the
    parameters do not list draws nothing (one row is read). The allocation itself stays
    Python's (protocol.allocate), from the sizes this returns."""
    sizes, rebuilt = _strata_of(draw_id, pool_size)
    bounds = sorted(
        (name, spec.get("ratio_bp") or 0, spec.get("min") or 0) for name, spec in strata.items()
    )
    here, there = list(sizes), []
    if not rebuilt and len(sizes) > 1 and sum(sizes.values()) >= PARALLEL_RANKING_MIN:
        here, there = _halves(sizes)
    db.session.execute(text(_WORK_MEM))
    db.session.execute(text(_NO_JIT))
    rows: list[tuple] = []
    if there:
        sql, params = _ranking_sql(bounds, there)
        params.update(draw=draw_id, seed=seed)
        with ThreadPoolExecutor(max_workers=1) as pool:
            other = pool.submit(_rank_on_own_connection, db.engine, sql, params)
            sql, params = _ranking_sql(bounds, here)
            params.update(draw=draw_id, seed=seed)
            rows = [tuple(row) for row in db.session.execute(text(sql), params)]
            theirs = other.result()
        seen = {row[0] for row in theirs if sizes.get(row[0]) == row[1]}
        rows += [row for row in theirs if row[0] in seen]
        here = [name for name in there if name not in seen]  # not committed: rank here
    if here:
        sql, params = _ranking_sql(bounds, here)
        params.update(draw=draw_id, seed=seed)
        rows += [tuple(row) for row in db.session.execute(text(sql), params)]
    db.session.execute(text("RESET work_mem"))
    db.session.execute(text("RESET jit"))
    return sorted(rows, key=lambda r: (r[0], r[3]))


def select_in_database(
    draw_id: int, task_id: int, params: dict, seed: bytes, pool_size: int | None = None
) -> dict[str, list[int]]:
    """The target draw of a frozen pool on PostgreSQL: ranked inside the database
    (ranked_in_database), allocated by protocol.allocate from the sizes it read, and the
    selection written with COPY, in target order (the foreign-key checks and the indexes then
    read and write their pages in order: about 40 % faster than in rank order). Returns the
    selection per stratum in rank order, every stratum of the pool, as
    protocol.select_targets does."""
    rows = ranked_in_database(draw_id, params["strata"], seed, pool_size)
    sizes: dict[str, int] = {}
    heads: dict[str, list[int]] = {}
    for stratum, size, cid, _position, _key in rows:
        sizes[stratum] = size
        heads.setdefault(stratum, []).append(cid)
    counts = protocol.allocate(sizes, params["strata"], seed)
    selection = {stratum: heads[stratum][: counts[stratum]] for stratum in sorted(sizes)}
    rows = sorted(
        (cid, stratum, position)
        for stratum, ids in selection.items()
        for position, cid in enumerate(ids, start=1)
    )
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY drawn_target (draw_id, task_id, target_id, stratum, rank) FROM STDIN"
        ) as copy:
            for cid, stratum, position in rows:
                copy.write_row((draw_id, task_id, cid, stratum, position))
    release_strata(draw_id)
    return selection
