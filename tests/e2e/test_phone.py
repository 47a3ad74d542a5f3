"""The inspector's phone at the site (issue 17, findings 1 and 7), in real Chromium emulating a
390×844 phone (touch, device scale 3): every page an Inspector uses fits the screen with
nothing cut off and no sideways scrolling; the record form says whose record it is, of which
task, on which items, and offers only the task's items; evidence takes a photo with the
camera; a draft typed without signal is kept in the browser and saved when the connection
returns, with its 未保存/已保存 state. Screenshots in test-output/e2e/phone-*.png;
DOCS_SCREENSHOTS=1 also refreshes the README's docs/images/phone-record.png."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from pathlib import Path

import pytest

from app.core.files import store
from app.directory.models import InspectionItem, Target
from app.draws.models import DrawnTarget
from app.extensions import db
from app.inspections import services
from app.inspections.models import Evidence, InspectionRecord, InspectionSummary
from app.planning.models import SpotCheckTask, TaskAttachment
from app.security.models import Department
from app.security.system_user import acting_as_system
from tests.directory.conftest import acting, directory, new_item, uscc  # noqa: F401  (fixture)
from tests.e2e.conftest import SHOTS, Visit, require_browser
from tests.inspections.conftest import (  # noqa: F401  (inspected: a fixture)
    PNG,
    WITH_PROBLEMS,
    enter_all,
    fill,
    inspected,
)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

require_browser()

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "phone-record.png"
ADDRESS = "内蒙古自治区鄂尔多斯市东胜区交通街道伊克昭大街与鄂尔多斯西街交汇处东南角水务大厦三层"
MATERIAL = "2027年取水许可监督检查培训材料（含计量设施检查要点与常见问题汇编）.pdf"
# 60 Chinese characters each: a task's and a target's (行政相对人's) name as long as real ones get.
LONG_TASK = "东胜区二〇二七年度取水许可计量设施安装运行与节约用水管理情况暨地下水超采区综合治理专项双随机抽查工作实施方案第一批次任务"
LONG_TARGET = "鄂尔多斯市东胜区铜川镇枳机塔村农牧业专业合作社联合社暨内蒙古自治区鄂尔多斯市东胜区水资源综合开发利用有限责任公司分公司"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Everything on the page that is wider than the screen or scrolls sideways (a table inside
# .table-responsive would scroll on its own, hiding what is cut off from the page's width).
OVERFLOW = """(width) => {
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "");
    if (box.right > width + 1 || box.left < -1) wide.push(name + " " + Math.round(box.right));
    const style = getComputedStyle(el);
    if (/auto|scroll/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
      wide.push(name + " scrolls sideways");
  }
  return {page: document.scrollingElement.scrollWidth, inner: window.innerWidth,
          wide: wide.slice(0, 8)};
}"""


PHONE_WIDTH = 390


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": PHONE_WIDTH, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=3,
    )
    visits = []

    def _open():
        visit = Visit(context, live_server)
        visits.append(visit)
        return visit

    _open.context = context
    yield _open
    for visit in visits:
        assert visit.outside == [], visit.outside
        assert visit.console_errors == [], visit.console_errors
    context.close()


@pytest.fixture
def site(app, inspected):  # noqa: F811
    """The task's window around today, the drawn targets with a long real address, the task with training material of a long
    name, and a published item of the department that is not the task's; inspector_a's first
    record opened. Returns (record id, the outside item's id)."""
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, inspected.task)
        task.window_start = dt.date.today() - dt.timedelta(days=10)
        task.window_end = dt.date.today() + dt.timedelta(days=30)
        for drawn in db.session.query(DrawnTarget).filter_by(task_id=task.id):
            db.session.get(Target, drawn.target_id).address = ADDRESS
        stored = store(io.BytesIO(PDF), {"pdf"})
        db.session.add(
            TaskAttachment(
                task=task,
                file_name=MATERIAL,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
            )
        )
        department_id = task.department_id
        db.session.commit()
    with app.app_context(), acting_as_system():
        leader = app.appbuilder.sm.find_user(username="leader")
        outside = new_item("A-003", department_id, leader)
        db.session.commit()
        outside_id = outside.id
    with acting(app, "inspector_a"):
        record = services.open_record(db.session.get(DrawnTarget, inspected.drawn[0]))
        db.session.commit()
        return record.id, outside_id


def _fits(v: Visit, path: str, name: str):
    v.go(path)
    v.page.wait_for_load_state("networkidle")
    v.shot(f"phone-{name}")
    # On a phone the layout viewport grows to what overflows: measure against the screen.
    measured = v.page.evaluate(OVERFLOW, PHONE_WIDTH)
    assert measured["page"] <= min(measured["inner"], PHONE_WIDTH), (path, measured)
    assert measured["wide"] == [], (path, measured)


def _record(app, record_id) -> InspectionRecord:
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        db.session.expunge(record)
        return record


def test_every_page_of_the_inspector_fits_the_phone(app, phone, site, inspected):  # noqa: F811
    record_id, _ = site
    v = phone()
    v.login("inspector_a")
    _fits(v, "/", "home")
    # Every page of the Inspector's menu.
    menu = v.page.eval_on_selector_all(
        ".navbar a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    menu = sorted({href for href in menu if not href.startswith(("/logout", "/lang"))})
    assert "/my-assignments/" in menu, menu
    for href in [*menu, "/conflicts/add"]:
        _fits(v, href, "menu" + href.rstrip("/").replace("/", "-"))
    _fits(v, "/my-assignments/", "my-assignments")
    # A card per target: its name, task, the whole address and the training material readable.
    card = v.page.locator("table.phone-cards tr", has_text=ADDRESS[:10]).first
    text = card.inner_text()
    assert ADDRESS in text.replace("\n", "") and "培训材料" in text, text
    assert MATERIAL in text.replace("\n", ""), text
    _fits(v, f"/records/edit/{record_id}", "record-edit")
    _fits(v, f"/records/show/{record_id}", "record-show")
    _fits(v, "/records/list/", "records-list")
    # The rest of the year's work: every record entered, the summary opened and written.
    enter_all(app, inspected)
    with acting(app, "inspector_a"):
        summary = services.open_summary(db.session.get(SpotCheckTask, inspected.task))
        db.session.commit()
        summary_id = summary.id
    _fits(v, "/my-assignments/", "my-assignments-done")
    _fits(v, f"/summaries/show/{summary_id}", "summary-show")
    _fits(v, f"/summaries/edit/{summary_id}", "summary-edit")
    _fits(v, "/summaries/list/", "summaries-list")
    _fits(v, f"/summary-workflow/{summary_id}/print", "summary-print")


def test_the_record_form_says_whose_record_and_offers_only_the_task_items(
    app,
    phone,
    site,
    directory,  # noqa: F811
):
    record_id, outside_id = site
    v = phone()
    v.login("inspector_a")
    v.go(f"/records/edit/{record_id}")
    header = v.page.locator(".record-header").inner_text()
    with app.app_context():
        record = db.session.get(InspectionRecord, record_id)
        task, target = record.task, record.target
        expected = [target.name, target.uscc, task.number, task.name]
        expected += [f"{i.code} {i.name}" for i in task.items]
        window = task.window_start.isoformat() if task.window_start else None
        task_items = {str(i.id) for i in task.items}
        outside = db.session.get(InspectionItem, outside_id).name
    for text in expected:
        assert text in header, (text, header)
    assert ADDRESS in header.replace("\n", "")
    if window:
        assert window in header
    # The header comes before the form, at the top of the screen.
    assert v.page.locator(".record-header").bounding_box()["y"] < 300
    # Labels above their inputs, inputs the width of the screen.
    label = v.page.locator("label[for=situation]").bounding_box()
    field = v.page.locator("#situation").bounding_box()
    assert field["y"] >= label["y"] + label["height"] - 1, (label, field)
    assert field["width"] > 300, field
    options = v.page.eval_on_selector_all("#items option", "os => os.map(o => o.value)")
    assert set(o for o in options if o) == task_items, options
    assert outside not in v.page.locator("#model_form").inner_text()
    v.page.screenshot(path=str(SHOTS / "phone-record-top.png"))
    if os.environ.get("DOCS_SCREENSHOTS"):  # refreshes the README's picture
        shutil.copyfile(SHOTS / "phone-record-top.png", DOCS_SHOT)


def _state(v: Visit) -> str:
    return v.page.locator("[data-draft-label]").inner_text()


def _typed_offline_saved_online(phone, v: Visit, url: str, key: str, fields: dict, offline):
    """Type into the form at `url` without signal, press 保存, come back online: the draft is
    kept while offline (`offline()` checks then that nothing reached the server) and sent,
    confirmed and cleared once the connection returns."""
    v.go(url)
    assert _state(v) == "已保存"
    phone.context.set_offline(True)
    for selector, text in fields.items():
        v.page.fill(selector, text)
    assert _state(v) == "未保存"
    assert "无网络" in v.page.locator("#record-draft-state").inner_text()
    # Saving without signal: the page stays, the draft stays in the browser.
    v.page.click("#model_form button[type=submit]")
    assert url in v.page.url
    assert _state(v) == "未保存"
    draft = v.page.evaluate("k => JSON.parse(localStorage.getItem(k))", key)
    for selector, text in fields.items():
        assert draft["values"][selector.lstrip("#")] == text
    offline()
    # The connection returns: the draft is sent, read back, and cleared.
    phone.context.set_offline(False)
    v.page.wait_for_function(
        "() => document.querySelector('#record-draft-state').dataset.state === 'saved'"
    )
    assert _state(v) == "已保存"
    assert v.page.evaluate("k => localStorage.getItem(k)", key) is None


def test_a_draft_typed_without_signal_is_kept_and_saved_when_the_connection_returns(
    app, phone, site
):
    record_id, _ = site
    v = phone()
    v.login("inspector_a")
    key = f"dsr-draft:{_user_id(app, 'inspector_a')}:record:{record_id}"
    fields = {"#situation": "取水口计量设施运行正常，读数 12345 立方米", "#present_person": "张三"}

    def nothing_saved():
        assert _record(app, record_id).situation is None

    _typed_offline_saved_online(
        phone, v, f"/records/edit/{record_id}", key, fields, offline=nothing_saved
    )
    saved = _record(app, record_id)
    assert (saved.situation, saved.present_person) == tuple(fields.values())


def test_the_summary_draft_survives_the_network_too(app, phone, site, inspected):  # noqa: F811
    enter_all(app, inspected)
    with acting(app, "inspector_a"):
        summary = services.open_summary(db.session.get(SpotCheckTask, inspected.task))
        db.session.commit()
        summary_id = summary.id
    v = phone()
    v.login("inspector_a")
    key = f"dsr-draft:{_user_id(app, 'inspector_a')}:summary:{summary_id}"
    fields = {"#opinions": "加强计量设施日常维护"}
    url = f"/summaries/edit/{summary_id}"
    _typed_offline_saved_online(phone, v, url, key, fields, offline=lambda: None)
    with app.app_context():
        assert db.session.get(InspectionSummary, summary_id).opinions == "加强计量设施日常维护"


def test_a_draft_left_unsaved_is_offered_back_on_reload(app, phone, site):
    record_id, _ = site
    v = phone()
    v.login("inspector_a")
    v.go(f"/records/edit/{record_id}")
    v.page.fill("#problems", "取水计量设施未按期检定")
    v.page.select_option("#method", "实地检查", force=True)
    assert _state(v) == "未保存"
    # The page is closed (the battery, a call) before anything is saved.
    v.page.reload()
    assert v.page.input_value("#problems") == "取水计量设施未按期检定"
    assert v.page.input_value("#method") == "实地检查"
    assert "实地检查" in v.page.locator("#select2-method-container").inner_text()
    assert _state(v) == "未保存"
    assert "草稿" in v.page.locator("#record-draft-state").inner_text()
    assert _record(app, record_id).problems is None
    # Saved: the server has it, and the next opening of the form clears the draft.
    v.page.click("#model_form button[type=submit]")
    v.page.wait_for_load_state()
    saved = _record(app, record_id)
    assert (saved.problems, saved.method) == ("取水计量设施未按期检定", "实地检查")
    v.go(f"/records/edit/{record_id}")
    assert _state(v) == "已保存"
    key = f"dsr-draft:{_user_id(app, 'inspector_a')}:record:{record_id}"
    assert v.page.evaluate("k => localStorage.getItem(k)", key) is None
    # Another user on the same phone never gets this user's draft: the key names the user.
    assert str(_user_id(app, "inspector_a")) in key


def test_evidence_takes_a_photo_with_the_camera(app, phone, site, tmp_path):
    record_id, _ = site
    v = phone()
    v.login("inspector_a")
    v.go(f"/records/show/{record_id}")
    camera = v.page.locator("input[type=file][capture=environment]")
    assert camera.get_attribute("accept") == "image/*"
    other = v.page.locator("#evidence-file")
    assert ".pdf" in other.get_attribute("accept") and other.get_attribute("capture") is None
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(PNG)
    camera.set_input_files(str(photo))
    assert "现场照片.png" in v.page.locator("#evidence-chosen").inner_text()
    v.page.fill(".evidence-form input[name=note]", "取水口计量表")
    v.page.click(".evidence-form button[type=submit]")
    dialog = v.page.locator("#confirm-step-dialog")  # evidence cannot be deleted: it asks first
    dialog.wait_for(state="visible")
    assert "不能删除" in dialog.inner_text()
    with v.page.expect_navigation():
        v.page.locator("#confirm-step-ok").click()
    v.page.wait_for_load_state()
    assert "证据材料已上传" in v.visible_text()
    with app.app_context():
        evidence = db.session.query(Evidence).filter_by(record_id=record_id).one()
        assert evidence.file_name == "现场照片.png" and evidence.note == "取水口计量表"
    assert v.page.locator("img[alt='现场照片.png']").count() == 1
    _fits(v, f"/records/show/{record_id}", "record-evidence")


def _user_id(app, username) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=username).id


def test_the_desktop_keeps_its_tables(app, browser, live_server, site):
    """The cards are for phones: at 1366 px the assignments stay a table with its header."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    try:
        v = Visit(context, live_server)
        v.login("inspector_a")
        v.go("/my-assignments/")
        assert v.page.locator("tr.phone-cards-head").is_visible()
        record_id, _ = site
        v.go(f"/records/edit/{record_id}")
        label = v.page.locator("label[for=situation]").bounding_box()
        field = v.page.locator("#situation").bounding_box()
        assert field["x"] > label["x"] + label["width"] - 1  # beside, as before
    finally:
        context.close()


def test_a_draft_is_removed_when_another_user_signs_in_on_the_phone(app, phone, site):
    """A shared phone: the draft names a confidential target, so it does not outlive its
    user's turn on the device once somebody else signs in."""
    record_id, _ = site
    v = phone()
    v.login("inspector_a")
    v.go(f"/records/edit/{record_id}")
    v.page.fill("#problems", "取水计量设施未按期检定")
    key = f"dsr-draft:{_user_id(app, 'inspector_a')}:record:{record_id}"
    assert v.page.evaluate("k => localStorage.getItem(k)", key) is not None
    v.go("/logout/")
    v.login("operator_a")
    assert v.page.evaluate("k => localStorage.getItem(k)", key) is None


@pytest.fixture
def long_names(app, world, inspected):  # noqa: F811
    """The task and its two targets named with 60 Chinese characters; both records entered
    with problems, the first followed by a rectification case, the second by a penalty; the
    summary opened."""
    with acting(app, "admin"):
        db.session.get(Department, world.bureau).uscc = uscc(900, "11")
        db.session.commit()
    with acting(app, "operator_a"):
        task = db.session.get(SpotCheckTask, inspected.task)
        task.name = LONG_TASK
        for drawn_id, suffix in zip(inspected.drawn, "甲乙", strict=True):
            db.session.get(Target, db.session.get(DrawnTarget, drawn_id).target_id).name = (
                LONG_TARGET[:-1] + suffix
            )
        db.session.commit()
    records = []
    with acting(app, "inspector_a"):
        for drawn_id, follow_up in zip(
            inspected.drawn, (services.RECTIFY, "立案查处"), strict=True
        ):
            record = services.open_record(db.session.get(DrawnTarget, drawn_id))
            fill(record, inspected.item, **WITH_PROBLEMS, follow_up=follow_up)
            services.submit_record(record)
            db.session.commit()
            records.append(record.id)
        services.open_summary(db.session.get(SpotCheckTask, inspected.task))
        db.session.commit()
    with acting(app, "operator_a"):
        first, second = (db.session.get(InspectionRecord, i) for i in records)
        services.open_case(
            first,
            first.task.department_id,
            "限期安装取水计量设施",
            dt.date.today() + dt.timedelta(30),
        )
        services.add_penalty(
            second,
            "东水罚〔2027〕1号",
            dt.date.today() - dt.timedelta(days=3),
            "罚款人民币二万五千元",
            violation_type="未按规定安装取水计量设施",
            violation_facts="自备井未安装取水计量设施，取水量无法计量",
            legal_basis="《取水许可和水资源费征收管理条例》第五十三条",
            kinds=["警告", "罚款"],
            fine_amount="2.5",
        )
        db.session.commit()


def test_lists_with_long_names_fit_the_phone(app, phone, long_names):
    """Probe finding: lists whose cells hold a long task name or 行政相对人 were 430–450 px
    wide (Bootstrap keeps a .table-responsive cell on one line), an import's error table 625
    px. Each long value wraps, whole, inside the screen."""
    v = phone()
    v.login("inspector_a")
    for path in ("/records/list/", "/summaries/list/", "/rectifications/list/"):
        _fits(v, path, "long" + path.rstrip("/").replace("/", "-"))
        assert LONG_TASK in v.visible_text().replace("\n", ""), path
    v.go("/logout/")
    v.login("operator_a")
    _fits(v, "/penalties/list/", "long-penalties-list")
    assert LONG_TARGET[:-1] + "乙" in v.visible_text().replace("\n", "")
    # An import refused with long error texts: its job page, then 最近的导入.
    v.go("/directory-import/")
    wrong = f"企业,{LONG_TARGET},9115{'错' * 40},{LONG_TARGET}\n".encode()
    v.page.set_input_files(
        "#import-file",
        files=[
            {
                "name": f"{LONG_TASK}.csv",
                "mimeType": "text/csv",
                "buffer": "检查对象类型,名称,统一社会信用代码,主管部门\n".encode() + wrong,
            }
        ],
    )
    v.page.click("#import-submit")
    v.page.wait_for_url("**/directory-import/job/*")
    job = v.page.url.removeprefix(v.base)
    assert v.page.locator("#import-error-table td").count() >= 3
    _fits(v, job, "long-import-job")
    assert LONG_TARGET in v.page.locator("#import-error-table").inner_text().replace("\n", "")
    _fits(v, "/directory-import/", "long-import")
    assert LONG_TASK in v.page.locator("#import-jobs").inner_text().replace("\n", "")
