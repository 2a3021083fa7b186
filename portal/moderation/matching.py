"""Finding sensitive terms fast, however they are dressed up.

Text and terms are folded the same way: NFKC (full-width letters and digits
become ASCII, compatibility forms their plain characters), then casefold. A
term is then searched on the "skeleton" of the text: its letters and digits
only, so spaces, punctuation and symbols typed between the characters
("加 微 信", "加-微-信", "加★微★信") do not hide it. The search is one
Aho–Corasick automaton over all the terms: its cost grows with the length of
the text, not with the number of terms.

A term that begins (or ends) with a Latin letter or digit must not run on
from a Latin letter or digit in the text itself, so "sex" is not found in
"is exciting" even though the skeleton reads "isexciting"."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

#: Unicode categories kept in the skeleton: letters and numbers.
_KEPT = ("L", "N")


def fold(text: str) -> str:
    """NFKC, then casefold (NFKC again: casefolding may leave unnormalised text)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text or "").casefold())


def _kept(char: str) -> bool:
    return unicodedata.category(char)[0] in _KEPT


def skeleton(text: str) -> tuple[str, list[int]]:
    """The letters and digits of the folded text, and where each one stands in it."""
    folded = fold(text)
    positions = [i for i, char in enumerate(folded) if _kept(char)]
    return "".join(folded[i] for i in positions), positions


def term_key(term: str) -> str:
    """What a term is stored and compared as: its skeleton ("" when it has no
    letter or digit, which cannot be a term)."""
    return skeleton(term)[0]


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


@dataclass(frozen=True)
class Term:
    key: str  # the skeleton
    label: str  # as the admin wrote it, for the moderator to read


class Matcher:
    """An Aho–Corasick automaton (pyahocorasick) over the keys of the terms.
    Built once per version of the list, then shared by every request of the
    process (it is never changed after __init__, so threads may read it together)."""

    def __init__(self, terms: Iterable[Term]):
        self._automaton = ahocorasick.Automaton()
        self.size = 0
        for term in terms:
            if term.key:
                self._automaton.add_word(term.key, term)
                self.size += 1
        if self.size:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[str]:
        """The labels of the terms found in `text`, each once, in the order
        where their first occurrence ends."""
        if not self.size or not text:
            return []
        folded = fold(text)
        positions = [i for i, char in enumerate(folded) if _kept(char)]
        letters = "".join(folded[i] for i in positions)
        found: dict[str, None] = {}
        for end, term in self._automaton.iter(letters):
            if term.label in found:
                continue
            start = positions[end - len(term.key) + 1]
            if _runs_on(folded, start, positions[end], term.key):
                continue
            found[term.label] = None
        return list(found)


def _runs_on(folded: str, start: int, end: int, key: str) -> bool:
    """Whether a match with Latin edges is only part of a longer Latin word."""
    if _latin(key[0]) and start > 0 and _latin(folded[start - 1]):
        return True
    return _latin(key[-1]) and end + 1 < len(folded) and _latin(folded[end + 1])
