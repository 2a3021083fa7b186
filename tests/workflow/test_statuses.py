"""The meaning of each status lives in one table (portal/workflow/statuses.py);
these checks keep the table consistent with the moves."""

from __future__ import annotations

from portal.workflow.services import MOVES
from portal.workflow.statuses import TRAITS, Clock, NeedStatus, with_trait


def test_every_status_has_its_traits():
    assert set(TRAITS) == set(NeedStatus)


def test_supportable_needs_are_listed_and_not_over():
    assert with_trait("supportable") <= with_trait("listed")
    assert not with_trait("supportable") & with_trait("terminal")


def test_no_move_leaves_a_terminal_status():
    for move in MOVES.values():
        assert not move.sources & with_trait("terminal"), move.name


def test_the_submitter_withdraws_from_exactly_the_withdrawable_statuses():
    assert MOVES["withdraw"].sources == with_trait("withdrawable")


def test_a_partners_clock_runs_only_while_a_partner_holds_the_need():
    for status, traits in TRAITS.items():
        assert (traits.clock != Clock.NONE) is traits.with_partner, status


def test_statuses_answer_for_themselves():
    assert NeedStatus.OPEN.is_supportable and NeedStatus.OPEN.in_triage
    assert not NeedStatus.RESOLVED.is_supportable and NeedStatus.RESOLVED.is_listed
    assert NeedStatus.WITHDRAWN.is_terminal and not NeedStatus.WITHDRAWN.is_listed
    assert NeedStatus.ROUTED.is_with_partner and not NeedStatus.ROUTED.is_in_work
