"""The 取消 link of the confirmation page goes back to the page the user came from, on this site
only: a Referer naming another site, or a path a browser reads as another site ("//evil", "/\\"),
falls back to the row's page (second probe of issue 17)."""

import pytest

from app.core.confirm import _same_site


@pytest.mark.parametrize(
    "referer",
    [
        "http://localhost//evil.example/x",
        "http://localhost/\\evil.example/x",
        "http://localhost/\t/evil.example/x",
        "http://other.example/tasks/show/1",
        "//evil.example/x",
        "javascript:alert(1)",
        "tasks/show/1",
    ],
)
def test_a_referer_to_another_site_is_not_followed(app, referer):
    with app.test_request_context("/tasks/show/1", base_url="http://localhost"):
        assert _same_site(referer) is None


def test_a_referer_on_this_site_is_followed(app):
    with app.test_request_context("/tasks/show/1", base_url="http://localhost"):
        assert _same_site("http://localhost/tasks/show/1?x=1") == "/tasks/show/1?x=1"
        assert _same_site("/plans/list/") == "/plans/list/"
