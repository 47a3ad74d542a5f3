"""The demo data set (`flask seed-demo`) looks like a real district water bureau's and works on
the day it is loaded: valid codes, addresses in the area they are filed under, no toy names,
and the demo inspector has records to enter today."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.core.identifiers import USCC, CitizenID
from app.demo.planning import (
    acting_as,
    current_task_name,
    finished_task_name,
    finished_window,
    task_window,
)
from app.directory import services as directory
from app.directory.models import DONGSHENG_AREAS, Area, Inspector, Target
from app.draws.models import Assignment, Draw, DrawnTarget
from app.extensions import db
from app.inspections import services as inspections
from app.inspections.deadlines import entered_late_by
from app.planning.models import AnnualPlan, SpotCheckTask
from app.security.system_user import acting_as_system

TOY_NAMES = ("张三", "李四", "王五", "赵六")
NUMBERED = re.compile(r"(公司|经营部|合作社|中心|厂|店|行|部)\s*\d+$|\d{2,}$")
AREA_NAMES = [name for name, _ in DONGSHENG_AREAS]


@pytest.fixture
def seeded(app, world):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def _targets():
    return list(db.session.scalars(select(Target).order_by(Target.id)))


def test_targets_have_valid_codes_and_pass_the_directory_checks(app, seeded):
    with app.app_context():
        targets = _targets()
        assert len(targets) >= 40
        for target in targets:
            if target.uscc:
                assert USCC.is_valid(target.uscc), (target.name, target.uscc)
                assert target.uscc[2:8] == "150602", target.name  # registered in 东胜区
            if target.id_number:
                assert CitizenID.is_valid(target.id_number), (target.name, target.id_number)
            with acting_as_system():
                directory.check_target(target, check_unique=False)
        codes = [t.uscc for t in targets if t.uscc]
        assert len(codes) == len(set(codes))


def test_every_address_lies_in_the_area_it_is_filed_under(app, seeded):
    with app.app_context():
        for target in _targets():
            assert target.area is not None, target.name
            named = [a for a in AREA_NAMES if a in (target.address or "")]
            assert named == [target.area.name], (target.name, target.address, target.area.name)
        used = {t.area.name for t in _targets()}
    # Spread over the district, towns and 街道 alike.
    assert len(used) >= 12 and {"铜川镇", "罕台镇", "泊江海镇"} <= used


def test_names_look_real(app, seeded):
    with app.app_context():
        targets = _targets()
        inspectors = list(db.session.scalars(select(Inspector)))
        people = [t.legal_representative for t in targets] + [t.contact_person for t in targets]
        people += [i.name for i in inspectors]
        people += [u.first_name for u in app.appbuilder.sm.get_all_users()]
    for name in [t.name for t in targets]:
        assert not NUMBERED.search(name), name
    assert not [p for p in people if p and any(toy in p for toy in TOY_NAMES)]
    assert len({t.name for t in targets}) == len(targets)
    # Varied people, not one family: many surnames among the representatives and inspectors.
    assert len({t.legal_representative[0] for t in targets if t.legal_representative}) >= 20
    assert len({i.name[0] for i in inspectors}) >= 10


def test_certificates_of_inspectors_on_duty_are_valid_today(app, seeded):
    today = dt.date.today()
    with app.app_context():
        inspectors = list(db.session.scalars(select(Inspector)))
        for inspector in inspectors:
            assert inspector.certificate_expiry >= today, inspector.name
            with acting_as_system():
                directory.check_inspector(inspector)


def test_the_plan_and_task_are_of_this_year_and_the_window_contains_today(app, seeded):
    today = dt.date.today()
    with app.app_context():
        plan = db.session.scalar(
            select(AnnualPlan).where(AnnualPlan.year == today.year, AnnualPlan.status == "filed")
        )
        assert plan is not None and plan.department.name == "水资源管理科"
        assert plan.approved_on <= today and plan.filed_on <= today
        task = db.session.scalar(
            select(SpotCheckTask).where(SpotCheckTask.name == current_task_name(today.year))
        )
        assert task.year == today.year and task.plan_id == plan.id
        assert task.window_start <= today <= task.window_end
        assert task.status == "inspectors_drawn"
        # Witnessed draws, as a real installation must draw (no one-step draw in production).
        draws = db.session.scalars(select(Draw).where(Draw.task_id == task.id)).all()
        assert sorted((d.kind, d.mode, d.status) for d in draws) == [
            ("inspector", "witnessed", "done"),
            ("target", "witnessed", "done"),
        ]


def test_the_demo_inspector_can_enter_a_record_today(app, seeded):
    today = dt.date.today()
    with app.app_context():
        wang = app.appbuilder.sm.find_user(username="inspector_wang")
        task = db.session.scalar(
            select(SpotCheckTask).where(SpotCheckTask.name == current_task_name(today.year))
        )
        drawn = list(db.session.scalars(select(DrawnTarget).where(DrawnTarget.task_id == task.id)))
        assert drawn
        mine = Assignment.of_user(wang, task.id)
        assert db.session.scalar(mine.limit(1)) is not None
        with acting_as(wang):
            for row in drawn:  # in every group: the section has two inspectors on duty
                assert inspections.is_group_member(wang, task.id, row.target_id)
            record = inspections.open_record(drawn[0])
            record.inspection_date = today
            record.method = "实地检查"
            record.items = list(task.items)
            record.situation = "取水计量设施运行正常，取水台账记录完整"
            record.problems = "无"
            record.result_code = "未发现问题"
            record.follow_up = "无需后续处置"
            record.opinions = "继续规范取用水管理"
            record.present_person = "杨春华（办公室主任）"
            inspections.submit_record(record)
            db.session.commit()
        assert record.status != "draft"


def test_seeding_again_the_same_day_changes_nothing(app, seeded):
    def snapshot():
        with app.app_context():
            return (
                [(t.name, t.uscc, t.id_number, t.address) for t in _targets()],
                sorted(db.session.scalars(select(Inspector.name))),
                sorted(db.session.scalars(select(SpotCheckTask.number))),
                sorted(db.session.scalars(select(DrawnTarget.target_id))),
                db.session.query(Assignment).count(),
                db.session.query(Area).count(),
            )

    before = snapshot()
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert snapshot() == before


def test_the_data_set_is_the_same_on_every_machine(app, world):
    """Everything but the draw (whose secret is random by design) and the dates comes from the
    seed's tables: two fresh databases get the same directory, plan and task."""
    from tests.conftest import _clean_database

    def load():
        app.test_cli_runner().invoke(args=["seed-demo"])
        with app.app_context():
            today = dt.date.today()
            task = db.session.scalar(
                select(SpotCheckTask).where(SpotCheckTask.name == current_task_name(today.year))
            )
            return (
                [
                    (t.name, t.uscc, t.id_number, t.address, t.area.name, t.risk_class)
                    for t in _targets()
                ],
                [
                    (i.name, i.certificate_no, i.certificate_expiry)
                    for i in db.session.scalars(select(Inspector).order_by(Inspector.id))
                ],
                (task.number, task.window_start, task.window_end, task.status),
            )

    first = load()
    with app.app_context():
        _clean_database(db)
    assert load() == first


def test_the_spring_check_is_finished_and_its_results_are_public(app, seeded):
    today = dt.date.today()
    window = finished_window(today)
    if window is None:
        pytest.skip("before July the demo has no finished check of the year")
    with app.app_context():
        task = db.session.scalar(
            select(SpotCheckTask).where(SpotCheckTask.name == finished_task_name(today.year))
        )
        assert task.status == "published"
        assert (task.window_start, task.window_end) == window
        records = inspections.task_records(task)
        assert records and {r.status for r in records} == {"reviewed"}
        assert all(window[0] <= r.inspection_date <= window[1] for r in records)
        # History as it happened: entered on time, published in June, not all today.
        assert [entered_late_by(r) for r in records] == [0] * len(records)
        assert window[1] < task.results_published_on < today
    html = app.test_client().get("/public/results").get_data(as_text=True)
    assert finished_task_name(today.year) in html
    # The current task is not public: its records are yet to be entered.
    assert current_task_name(today.year) not in html


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2027, 1, 1),  # a holiday, the first day of the year
        dt.date(2027, 2, 12),  # in the Spring Festival holidays
        dt.date(2028, 2, 29),
        dt.date(2027, 6, 30),
        dt.date(2027, 7, 1),
        dt.date(2027, 10, 4),  # National Day week
        dt.date(2027, 12, 31),
    ],
)
def test_on_any_day_of_the_year_the_windows_fit(app, today):
    """Whatever day the demo is loaded on: the current window contains it and lies in its year,
    and the finished spring check (from July) ends before the current window starts."""
    with app.app_context():
        start, end = task_window(today)
    assert dt.date(today.year, 1, 1) <= start <= today <= end <= dt.date(today.year, 12, 31)
    spring = finished_window(today)
    assert (spring is None) == (today.month < 7)
    if spring:
        assert spring[0].year == today.year and spring[1] < start


def test_the_spring_check_left_a_published_blacklist_entry(app, seeded):
    from app.credit.models import BlacklistEntry

    today = dt.date.today()
    if finished_window(today) is None:
        pytest.skip("before July the demo has no finished check of the year")
    with app.app_context():
        # The listing (the spring check's penalty left a suggestion beside it).
        entry = db.session.scalar(select(BlacklistEntry).where(BlacklistEntry.basis == "refused"))
        assert entry.status == "listed" and entry.basis == "refused"
        assert entry.case.status == "refused" and entry.target.listed_on == entry.listed_on
        assert entry.listed_on <= entry.published_on < today
        assert [e.at for e in entry.events] == sorted(e.at for e in entry.events)
        name = entry.target.name
        if entry.target.target_type == "自然人":  # masked on every public page
            from app.core.masking import mask_person_name

            name = mask_person_name(name)
    html = app.test_client().get("/public/blacklist").get_data(as_text=True)
    assert name in html


def test_the_spring_check_left_a_complete_penalty(app, seeded):
    """The demo's 行政处罚 has every field the 双公示 standard requires (the export warns of
    none) and the bureau its unified social credit code."""
    from app.inspections import penalty_export
    from app.inspections.models import Penalty

    if finished_window(dt.date.today()) is None:
        pytest.skip("before July the demo has no finished check of the year")
    with app.app_context():
        penalty = db.session.scalar(select(Penalty))
        assert penalty.kinds == "警告、罚款" and penalty.fine_amount == 0.5
        assert penalty.authority == "鄂尔多斯市东胜区水利局" and penalty.authority_uscc
        assert penalty_export.missing_fields(penalty) == []
        assert penalty.record.follow_up_closed


def test_a_task_of_this_year_waits_to_be_drawn_and_its_draw_is_open(app, seeded):
    """DESIGN.md's demo contract: an approved task of 水资源管理科 (operator_szy) with drawable
    targets and inspectors in the current year."""
    from app.demo.planning import waiting_task_name
    from app.draws import services as draws
    from tests.directory.conftest import acting

    today = dt.date.today()
    with app.app_context():
        task = db.session.scalar(
            select(SpotCheckTask).where(SpotCheckTask.name == waiting_task_name(today.year))
        )
        assert task.department.name == "水资源管理科" and task.year == today.year
        assert (task.approval, task.status) == ("approved", "planned")
        assert draws.target_draw_not_open(task) is None
        task_id = task.id
    with acting(app, "operator_szy"):
        draw = draws.start_draw(
            db.session.get(SpotCheckTask, task_id),
            "target",
            mode="witnessed",
            witnesses="白玉梅、郝建平",
        )
        db.session.commit()
        draws.complete_draw(draw, witness_entropy="3 1 4 1")
        db.session.commit()
        assert draw.status == "done" and draw.result_data()
        draw = draws.start_draw(
            db.session.get(SpotCheckTask, task_id),
            "inspector",
            mode="witnessed",
            witnesses="白玉梅、郝建平",
        )
        db.session.commit()
        draws.complete_draw(draw, witness_entropy="2 7 1 8")
        db.session.commit()
        assert draw.status == "done"
