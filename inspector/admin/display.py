"""How changelist cells read: words for codes, pills, one-line cells with their full text on hover.

Columns stay narrow enough for a 1440 px screen with both sidebars open
(``tests/browser/test_admin_lists.py``): long text is cut by CSS
(``.ops-truncate`` in ``static/inspector/ops_admin.css``) and kept whole in
its ``title``, so nothing is lost and no row grows taller than a line.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

PILL_KIND = {"success": "success", "ok": "ok", "published": "ok", "closed": "ok", "PASS": "success",
             "warning": "warning", "half_open": "warning", "draft": "warning", "WARN": "warning",
             "error": "error", "open": "error", "FAIL": "error", "archived": "muted"}


def words(code: str) -> str:
    """``tool_error_fatal`` → ``Tool error fatal``: a code as the UI shows it (empty stays empty)."""
    return code.replace("_", " ").strip().capitalize()


def pill(code: str, *, label: str = "") -> SafeString:
    """A status pill (upper case by CSS), coloured by what the code means; ``label`` defaults to its words."""
    return format_html('<span class="ops-status ops-status-{}">{}</span>', PILL_KIND.get(code, "muted"),
                       label or words(code))


def truncated(text: str, *, css: str = "") -> SafeString:
    """One line cut with an ellipsis by CSS, the whole text in the tooltip."""
    return format_html('<span class="ops-truncate {}" title="{}">{}</span>', css, text, text)


def moment(value: datetime | None) -> SafeString | str:
    """``28 Nov, 01:27`` (the year too when not this one) in the current time zone; the full time on hover."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    short = f"{local:%d %b}, {local:%H:%M}" if local.year == timezone.localtime().year else f"{local:%d %b %Y}, {local:%H:%M}"
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(),
                       f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}", short)


def duration(milliseconds: int) -> str:
    """``73 ms``, ``1.24 s``, ``2.5 min``."""
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    if milliseconds < 60_000:
        return f"{milliseconds / 1000:.3g} s"
    return f"{milliseconds / 60_000:.2g} min"


def size(count: int) -> str:
    """``812 B``, ``14.2 kB``, ``3.1 MB``."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.3g} kB"
    return f"{count / 1_000_000:.3g} MB"


def titled(filter_class: type[admin.FieldListFilter], title: str) -> type[admin.FieldListFilter]:
    """``filter_class`` with a title of its own ("By default policy", not the field's "By is default")."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    Titled.__name__ = f"Titled{filter_class.__name__}"
    return Titled


class WordedChoicesFilter(admin.ChoicesFieldListFilter):
    """A choices field's filter showing each value in words (``Half open``, not ``half_open``)."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            yield {**choice, "display": words(str(choice["display"]))}
