"""The fields of the REST workflow endpoints' bodies, for /api/v1/_openapi (see `takes` in
app/security/base_views.py): `(kind, description)` with kind text / date / integer / boolean."""

from flask_babel import lazy_gettext as _l

OPINION = ("text", _l("The opinion (意见)."))
REASON = ("text", _l("The reason."))
NOTE = ("text", _l("A note (optional)."))
COMMENT = ("text", _l("The comment."))
DECISION_NUMBER = ("text", _l("The decision's document number (文号)."))
TARGET_ID = ("integer", _l("The id of the drawn target whose inspector is replaced."))
INSPECTOR_ID = ("integer", _l("The id of the inspector who is replaced."))
SUBSTITUTION_REASON = ("text", _l("Why the inspector cannot attend: 病假, 公务冲突, 回避 or 其他."))
DRAW_MODE = ("text", _l("one_step (the default), witnessed or public."))
WITNESSES = ("text", _l("With mode witnessed: the witnesses (监督人), separated by 、."))
ENTROPY_SOURCE = ("text", _l("With mode public: the declared future public source."))
WITNESS_ENTROPY = ("text", _l("Second step: the witnesses' entropy or the public source's result."))

# The body of a substitution (递补) and of a supplementary draw (补充摇号).
REPLACEMENT = {
    "required": ["target_id", "inspector_id", "reason"],
    "target_id": TARGET_ID,
    "inspector_id": INSPECTOR_ID,
    "reason": SUBSTITUTION_REASON,
    "note": NOTE,
}
