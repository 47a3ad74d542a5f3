"""No program text on any page a person reads (issue 17): every role (and the public) visits
every GET page of the URL map — lists, show pages, add and edit forms, custom pages — with the
ids of real rows substituted, and what the page shows must hold no object repr, no `__None`, no
`None`, no English column name, no internal code (action, object type, login, source) and no
requirement number. The pages come from the application itself, so a page added later is
crawled too; a route whose id the crawl cannot fill fails `test_the_crawl_knows_every_route`.

What is checked is the visible text (text nodes outside script/style) plus what a user also
reads: <option> texts, title attributes, placeholders, button values. Attribute values a browser
does not show (option values, ids, hrefs) are not."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.credit.conftest import operator_a2, refused  # noqa: F401  (fixture)
from tests.directory.conftest import acting, conflict, directory  # noqa: F401  (fixture)
from tests.inspections.conftest import PENALTY_FIELDS, inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)

# Routes a person does not read as a page: writes reached by GET, files, JSON, redirects.
SKIPPED_ENDPOINT_SUFFIXES = (".action", ".delete", ".download", ".api_read", ".api_get")
SKIPPED_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "favicon",
    "AuthDBView.logout",
    "LocaleView.index",
    "UtilView.back",
    "SwaggerView.show",
    "MenuApi.get_menu_data",
}
SKIPPED_RULE = re.compile(
    r"^/api/|\.(json|csv|zip|docx|xlsx|pdf)$|/thumbnail$|/evidence/|/task-material/|/template/"
)

# Views the test suite adds to the application (tests/support/probe.py), not the product's.
TEST_ONLY_VIEWS = ("ScopeProbeView.", "ScopeProbeApi.")

# The row kind an id of a custom (non-CRUD) route names: (rule prefix, argument) -> model path.
ROW_OF = {
    ("/directory-import/job/", "pk"): "app.directory.import_jobs.ImportJob",
    ("/item-workflow/", "pk"): "app.directory.models.InspectionItem",
    ("/plan-workflow/", "pk"): "app.planning.models.AnnualPlan",
    ("/plan-workflow/", "item_id"): "app.directory.models.InspectionItem",
    ("/record-workflow/", "pk"): "app.inspections.models.InspectionRecord",
    ("/summary-workflow/", "pk"): "app.inspections.models.InspectionSummary",
    ("/task-draw/draw/", "pk"): "app.draws.models.Draw",
    ("/task-draw/", "pk"): "app.planning.models.SpotCheckTask",
    ("/task-results/", "pk"): "app.planning.models.SpotCheckTask",
    ("/credit/target/", "pk"): "app.credit.models.BlacklistEntry.target_id",
    ("/public/credit/", "target_id"): "app.credit.models.BlacklistEntry.target_id",
    ("/public/results/", "task_id"): "app.planning.models.SpotCheckTask",
    ("/public/draws/", "uid"): "app.draws.models.Draw.uid",
}
IDS_PER_KIND = 4

# What must never be read on a page.
FORBIDDEN = [
    ("object repr", re.compile(r" object at 0x|<[a-z_.]+\.[A-Z]\w+ ")),
    ("__None", re.compile(r"__None")),
    ("None", re.compile(r"(?<![A-Za-z_])None(?![A-Za-z_])")),
    ("English field name", re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b|\b[A-Z][a-z]* Id\b")),
    ("internal code", re.compile(r"(?<![\w.@/-])[a-z]+(?:[_-][a-z]+)+(?![\w.@/-])")),
    ("requirement number", re.compile(r"(?<![A-Za-z0-9])R\d+(?:\.\d+)+")),
    (
        "internal word",
        re.compile(r"(?<![\w.@/-])(?:cli|system|target|draw|None|VALID)(?![\w.@/-])"),
    ),
    ("English UI word", re.compile(r"\b(?:Remove all items|Select)\b")),
]
# Text a page legitimately shows in ASCII: e-mail addresses, web addresses, file names.
ALLOWED = re.compile(
    r"[\w.+-]+@[\w.-]+|https?://\S+|[\w-]+\.(?:png|jpe?g|pdf|docx|xlsx|csv|json)\b"
)


class _Reader(HTMLParser):
    """The text a person reads: text nodes outside script/style/template, <option> texts,
    and title/placeholder/alt attributes and button values."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label", "data-placeholder")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        values = dict(attrs)
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def readable_text(html: str) -> list[str]:
    reader = _Reader()
    reader.feed(html)
    return reader.parts


def findings(html: str, allowed_words: set[str] = frozenset()) -> list[str]:
    """[what, text] of everything on the page that is program text."""
    found = []
    for part in readable_text(html):
        text = ALLOWED.sub(" ", part)
        for word in allowed_words:
            text = text.replace(word, " ")
        for what, pattern in FORBIDDEN:
            match = pattern.search(text)
            if match:
                found.append(f"{what} {match.group(0)!r} in {part[:120]!r}")
    return found


def _model(path: str):
    module, _, rest = path.rpartition(".")
    column = None
    if rest[0].islower():  # Model.column
        module, _, model = module.rpartition(".")
        column = rest
    else:
        model = rest
    imported = __import__(module, fromlist=[model])
    return getattr(imported, model), column


def _values(path_or_model, column=None) -> list:
    model, column = (
        _model(path_or_model) if isinstance(path_or_model, str) else (path_or_model, column)
    )
    attribute = getattr(model, column or "id")
    rows = db.session.scalars(select(attribute).distinct().order_by(attribute)).all()
    rows = [r for r in rows if r is not None]
    return rows[:IDS_PER_KIND] + rows[-1:] if len(rows) > IDS_PER_KIND else rows


def _row_kind(app, rule, arg):
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    view = views.get(rule.endpoint.partition(".")[0])
    datamodel = getattr(view, "datamodel", None)
    if arg == "pk" and datamodel is not None:
        return datamodel.obj, None
    for (prefix, name), path in sorted(ROW_OF.items(), key=lambda kv: -len(kv[0][0])):
        if name == arg and rule.rule.startswith(prefix):
            return _model(path)
    return None


def crawled_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if rule.endpoint.endswith(SKIPPED_ENDPOINT_SUFFIXES) or SKIPPED_RULE.search(rule.rule):
            continue
        if rule.endpoint.startswith(TEST_ONLY_VIEWS):
            continue
        yield rule


def crawl_urls(app) -> list[str]:
    """Every GET page of the URL map, once per real row it can name."""
    urls = []
    for rule in crawled_rules(app):
        args = [a for a in rule.arguments]
        if not args:
            urls.append(rule.rule)
            continue
        choices = {}
        for arg in args:
            kind = _row_kind(app, rule, arg)
            assert kind is not None, (
                f"the crawl cannot fill <{arg}> of {rule.rule}: add it to ROW_OF"
            )
            choices[arg] = _values(*kind)
        for n in range(max(len(v) for v in choices.values()) if choices else 0):
            values = {a: v[min(n, len(v) - 1)] for a, v in choices.items() if v}
            if len(values) == len(args):
                urls.append(rule.build(values, append_unknown=False)[1])
    return sorted(set(urls))


@pytest.fixture
def full_world(app, world, refused, conflict, operator_a2):  # noqa: F811
    """Rows in every table a page shows: items (published and draft), roster, targets, a
    conflict, a published plan and its task, both draws, records with problems, a rectification
    case closed as refused with a re-inspection, a penalty, blacklist suggestions from the case
    and the penalty, one of them proposed and reviewed, a submitted summary."""
    from app.credit import services as credit
    from app.credit.models import BlacklistEntry
    from app.inspections import services as inspections
    from app.inspections.models import InspectionRecord
    from app.planning.models import SpotCheckTask

    with app.app_context():  # people by real names: a login shown anywhere is then a finding
        sm = app.appbuilder.sm
        for n, username in enumerate(ROLES + ["operator_a2"]):
            user = sm.find_user(username=username)
            user.first_name, user.last_name = GIVEN_NAMES[n], "测"
        db.session.commit()
    with acting(app, "operator_a"):
        record = db.session.get(InspectionRecord, refused.other_record)
        inspections.add_penalty(
            record,
            "东水罚〔2027〕3号",
            dt.date.today(),
            "罚款二万元",
            **PENALTY_FIELDS,
        )
        db.session.commit()
        entry = db.session.scalars(
            select(BlacklistEntry).where(BlacklistEntry.target_id == refused.target)
        ).first()
        entry.reasons = "复查拒不整改"
        credit.propose(entry)
        db.session.commit()
        entry_id = entry.id
    with acting(app, "operator_a2"):
        credit.review(db.session.get(BlacklistEntry, entry_id), True, "同意")
        db.session.commit()
    with acting(app, "inspector_a"):
        record = db.session.get(InspectionRecord, refused.record)
        summary = inspections.open_summary(db.session.get(SpotCheckTask, record.task_id))
        inspections.submit_summary(summary)
        db.session.commit()
    return refused


GIVEN_NAMES = ["信息", "国安", "敏", "志远", "明", "芳", "静", "建国", "立新", "海"]
ROLES = [
    "admin",
    "secadmin",
    "auditor",
    "leader",
    "leader_a",
    "operator_a",
    "operator_b",
    "inspector_a",
    "jointoffice",
]


def test_the_crawl_knows_every_route(app, world):
    with app.app_context():
        assert crawl_urls(app)


def _crawl(app, client, allowed_words=frozenset()):
    with app.app_context():
        urls = crawl_urls(app)
    problems, seen = [], 0
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        seen += 1
        for finding in findings(response.get_data(as_text=True), allowed_words):
            problems.append(f"{url}: {finding}")
    return seen, problems


@pytest.mark.parametrize("username", ROLES)
def test_no_page_of_a_role_shows_program_text(app, full_world, login_as, username):
    with app.app_context():
        logins = set(db.session.scalars(select(app.appbuilder.sm.user_model.username)))
    client = login_as(username)
    # A user's own login name is theirs to read (the account card); the account and role pages
    # list logins: that is what an administrator manages there.
    seen, problems = _crawl(app, client, {username})
    problems = [
        p
        for p in problems
        if not (p.startswith(("/users/", "/roles/", "/resetpassword")) and _is_login(p, logins))
    ]
    assert seen > 5
    assert problems == [], "\n".join(problems)


def _is_login(problem: str, logins: set[str]) -> bool:
    match = re.search(r"'([^']*)' in", problem)
    return bool(match) and match.group(1) in logins


def test_no_public_page_shows_program_text(app, full_world):
    from app.draws.models import Draw
    from app.inspections import services as inspections
    from app.inspections.models import InspectionRecord, InspectionSummary

    with acting(app, "operator_a"):
        for record in db.session.scalars(select(InspectionRecord)):
            if record.status == "submitted":
                inspections.review_record(record)
        db.session.commit()
    with acting(app, "leader_a"):
        summary = db.session.scalars(select(InspectionSummary)).one()
        inspections.decide_summary(summary, True, "同意")
        db.session.commit()
        task = summary.task
    with acting(app, "operator_a"):
        inspections.publish_results(db.session.merge(task))
        db.session.commit()
        uids = db.session.scalars(select(Draw.uid)).all()
    client = app.test_client()
    seen, problems = _crawl(app, client)
    assert seen > 3
    assert problems == [], "\n".join(problems)
    # The published draw's page says 校验通过 and points to the page that explains the check;
    # the command line is shown there, as an example for technical verifiers only.
    for uid in uids:
        page = " ".join(readable_text(client.get(f"/public/draws/{uid}").get_data(as_text=True)))
        assert "校验通过" in page and "python" not in page
        assert "如何自行核验摇号结果" in page
    page = client.get("/public/draws/how-to-verify").get_data(as_text=True)
    assert "如何自行核验摇号结果" in page and "监督人" in page


def test_the_reader_sees_options_titles_and_placeholders_but_not_values():
    html = (
        '<select><option value="__None">（请选择）</option><option value="1">None</option></select>'
        '<a title="Remove all items" href="/x_y">链接</a><input placeholder="Department Id">'
        "<script>var a_b = None;</script>"
    )
    found = findings(html)
    assert any("'None'" in f for f in found)
    assert any("Remove all items" in f for f in found)
    assert any("Department Id" in f for f in found)
    assert not any("__None" in f or "a_b" in f or "x_y" in f for f in found)


def test_an_admin_reads_permissions_in_chinese_and_has_no_dead_menu_entry(app, login_as):
    admin = login_as("secadmin")
    roles_page = " ".join(readable_text(admin.get("/roles/list/").get_data(as_text=True)))
    assert "查看年度抽查计划" in roles_page  # the Operator's built-in rules, in words
    assert "can_read" not in roles_page and "AnnualPlan" not in roles_page
    form = admin.get("/roles/add").get_data(as_text=True)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", form)
    assert "查看年度抽查计划" in options
    assert not [o for o in options if " on " in o or o.startswith(("can ", "menu access"))]
    with app.app_context():  # the stored names stay ASCII (DESIGN.md)
        sm = app.appbuilder.sm
        assert sm.find_permission_view_menu("can_read", "AnnualPlan") is not None
    # FAB's user groups are not used: no menu entry leads to their 403.
    menu = admin.get("/api/v1/menu/").get_data(as_text=True)
    assert "/groups/list/" not in menu
    assert admin.get("/users/list/").status_code == 200
