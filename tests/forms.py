"""Read the forms of a page the way a browser would, to submit them in tests."""

from __future__ import annotations

import json
from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attrs.get("action", ""),
                "method": (attrs.get("method") or "get").lower(),
                "enctype": attrs.get("enctype") or "application/x-www-form-urlencoded",
                "fields": {},
                "hx_vals": {},
                "buttons": {},  # named submit buttons: a browser sends the one clicked
                "options": {},  # the values each select offers
            }
            self.forms.append(self._current)
        if self._current is None:
            return
        if attrs.get("hx-vals"):  # what htmx adds to the fields (e.g. _validate)
            self._current["hx_vals"].update(json.loads(attrs["hx-vals"]))
        if tag == "form":
            return
        if tag == "button" and attrs.get("name"):
            self._current["buttons"][attrs["name"]] = attrs.get("value", "")
        elif tag in ("input", "textarea") and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind == "submit":
                return
            self._current["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
            self._current["fields"].setdefault(self._select, "")
        elif tag == "option" and self._select:
            self._current["options"].setdefault(self._select, []).append(attrs.get("value", ""))
            if "selected" in attrs:
                self._current["fields"][self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_for(html: str, action_suffix: str) -> dict:
    """The form posting to `…action_suffix`: its action and its fields (with
    their current values)."""
    for form in page_forms(html):
        if form["action"].split("?")[0].endswith(action_suffix):
            return form
    raise AssertionError(f"no form posting to …{action_suffix} on the page")
