"""Both languages stay complete, and each visitor gets theirs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import csrf_token_from

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ["zh_Hans_CN", "en"]  # Babel's directory name for zh_CN
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalogue(locale: str):
    with (ROOT / f"translations/{locale}/LC_MESSAGES/messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _source_messages() -> set[str]:
    method_map = [
        ("portal/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_no_untranslated_or_fuzzy_entry(locale):
    catalogue = _catalogue(locale)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if set(PLACEHOLDER.findall(ids[0])) != set(PLACEHOLDER.findall(strings[0] or "")):
            problems.append(f"placeholders differ: {ids[0]}")
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_in_the_code_is_in_the_catalogue(locale):
    catalogue = _catalogue(locale)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
    missing = sorted(_source_messages() - known)
    assert missing == [], "run `make catalogues` and translate the new strings"


def test_chinese_is_the_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "提交诉求" in page


def test_the_browser_language_is_honoured(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Submit a need" in page
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese


def test_the_visitors_choice_is_remembered_and_beats_the_browser(client):
    token = csrf_token_from(client.get("/needs").get_data(as_text=True))
    response = client.post(
        "/locale", data={"locale": "en", "next": "/needs?q=x", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/needs?q=x"
    cookie = client.get_cookie("locale")
    assert cookie.value == "en" and cookie.http_only
    page = client.get("/needs", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_the_switch_is_not_an_open_redirect(client, target):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post("/locale", data={"locale": "en", "next": target, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_an_unknown_locale_is_ignored(client):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/locale", data={"locale": "xx", "csrf_token": token})
    assert client.get_cookie("locale") is None
