"""The second level of the result codes (检查结果细类): the national 双随机 list splits
发现问题待后续处理 by the kind of rule broken and keeps 已注销 / 被吊销 / 被撤销 / 迁出 apart, where
our first level (models.RESULT_CODES, DESIGN.md "Formats", stored unchanged) has one code each.

The official wording of these subdivisions was not found in any published source we could
read; the values below are our choice for a water bureau, named as the rules its items check
(docs/exports.md says so). A first-level code without an entry here has no second level.

One rule for every path that writes a record's result (the form, REST, the demo data, the
services): `check_result_detail` refuses a second level that is not one of its first level's,
`missing_result_detail` tells the submission that a first level with values needs one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _

from app.core.errors import DomainError

FOLLOW_UP_PENDING = "发现问题待后续处理"
CLOSED_DOWN = "已注销或被吊销、撤销"
RESULT_DETAILS: dict[str, tuple[str, ...]] = {
    FOLLOW_UP_PENDING: (
        "违反安全生产规定",
        "违反资质许可规定",
        "违反水资源管理规定",
        "违反河湖管理规定",
        "违反水土保持规定",
        "其他违法违规行为",
    ),
    CLOSED_DOWN: ("已注销", "被吊销", "被撤销", "迁出"),
}
# What a record shows when its first level has a second level and it has none: entered before
# the second level existed (migration 0019 leaves those rows empty).
NOT_SUBDIVIDED = "未细分"


def allowed_details(result_code: str | None) -> tuple[str, ...]:
    return RESULT_DETAILS.get(result_code or "", ())


def check_result_detail(result_code: str | None, detail: str | None) -> None:
    """A second level only with a first level that has it, and one of that level's values."""
    if not detail:
        return
    allowed = allowed_details(result_code)
    if not allowed:
        raise DomainError(
            _(
                "The result %(code)s has no subdivision: leave the result detail empty.",
                code=result_code or "—",
            )
        )
    if detail not in allowed:
        raise DomainError(
            _(
                "%(detail)s is not a detail of the result %(code)s; choose one of: %(allowed)s.",
                detail=detail,
                code=result_code,
                allowed="、".join(allowed),
            )
        )


def missing_result_detail(result_code: str | None, detail: str | None) -> bool:
    return bool(allowed_details(result_code)) and not detail


def detail_text(result_code: str | None, detail: str | None) -> str:
    """The second level as printed: the value, 未细分 where one is due and missing, else ""."""
    if detail:
        return detail
    return NOT_SUBDIVIDED if allowed_details(result_code) else ""


def detail_choices() -> list:
    """The form's choices, grouped by their first level (optgroups); the empty one first."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice("", "—")] + [
        SelectChoice(value, optgroup=code)
        for code, values in RESULT_DETAILS.items()
        for value in values
    ]
