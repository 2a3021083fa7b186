"""Counting the links in a text: http(s) URLs, www. hosts and bare domains
("example.com", "t.cn/abc"), also when typed in full-width characters or
with an ideographic full stop ("example。com")."""

from __future__ import annotations

import re

from portal.moderation.matching import fold

#: Top-level domains a bare domain is recognised by. A list, not "any letters",
#: so that "e.g." or "Mr.Smith" are not links; it holds the generic ones, the
#: cheap ones spammers favour, and the country codes seen most in China.
TLDS = [
    *("com", "net", "org", "info", "biz", "name", "pro", "mobi", "asia", "edu", "gov", "int"),
    *("cn", "hk", "mo", "tw", "sg", "jp", "kr", "in", "my", "th", "vn", "ph", "id", "au"),
    *("nz", "us", "ca", "uk", "eu", "de", "fr", "it", "es", "nl", "ru", "br"),
    *("io", "co", "me", "tv", "cc", "ws", "to", "so", "ly", "gl", "la", "fm", "am", "ai"),
    *("tk", "ml", "ga", "cf", "gq", "top", "xyz", "vip", "site", "online", "shop", "club"),
    *("link", "app", "dev", "icu", "fun", "store", "tech", "space", "website", "win", "bid"),
    *("wang", "ink", "work", "live", "life", "world", "today", "news", "email", "group"),
    *("cloud", "ltd", "xin", "ren"),
]

_STOP = r"""\s<>"'，。、；：！？（）【】《》「」"""
_DOT = r"[.。]"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = "(?:" + "|".join(sorted(TLDS, key=len, reverse=True)) + ")"

LINK = re.compile(
    rf"""
    https?://[^{_STOP}]+                               # a URL with its scheme
  | www{_DOT}[^{_STOP}]+                               # a www. host
  | (?<![a-z0-9.@_-])(?:{_LABEL}{_DOT})+{_TLD}(?![a-z0-9-])(?:[/:?#][^{_STOP}]*)?  # a bare domain
    """,
    re.VERBOSE,
)


def count_links(text: str) -> int:
    return sum(1 for _ in LINK.finditer(fold(text)))
