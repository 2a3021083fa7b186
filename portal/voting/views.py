from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.decorators import admin_required, member_required
from portal.core.params import arg_int, page_number
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.htmx import redirect_after_post, render, render_invalid
from portal.needs import services as needs_services
from portal.needs.models import Need
from portal.voting import services
from portal.voting.forms import RoundForm

bp = Blueprint("voting", __name__)


def _vote_limit() -> str:
    return current_app.config["VOTE_RATE_LIMIT"]


def _public_need_or_404(ref: str) -> Need:
    need = needs_services.listed_need(ref)
    if need is None:
        abort(404)
    return need


@bp.post("/needs/<ref>/support")
@limiter.limit(_vote_limit)
@member_required
def support(ref: str):
    need = _public_need_or_404(ref)
    form = EmptyForm()
    if not form.validate():
        abort(400)
    try:
        if request.form.get("action") == "remove":
            services.withdraw_support(need, current_user)
        else:
            services.support_need(need, current_user)
        db.session.commit()
    except services.VotingError as error:
        db.session.rollback()
        flash(str(error), "error")
    if request.htmx and not request.htmx.boosted:
        return render(
            "voting/_support.html",
            context={
                "need": need,
                "count": services.current_support_count(need),
                "supported": bool(services.supported_need_ids(current_user, [need.id])),
                "support_form": EmptyForm(),
            },
        )
    return redirect_after_post(url_for("needs.show", ref=need.ref) + "#support")


@bp.get("/priorities")
def priorities():
    category_id = arg_int("category")
    page = services.priorities_page(
        category_id, page_number(request.args.get("page"), services.PRIORITIES_MAX_PAGE)
    )
    return render(
        "voting/priorities.html",
        "voting/_priorities_list.html",
        context={
            "page": page,
            "category_id": category_id,
            "categories": needs_services.active_categories(),
            "rounds": services.current_rounds(),
            "supported": services.supported_need_ids(current_user, [n.id for n in page.needs]),
        },
    )


def _round_or_404(round_id: int):
    round_ = services.get_round(round_id)
    if round_ is None or (not round_.has_started() and not _is_admin()):
        abort(404)
    return round_


def _is_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin


def _round_context(round_):
    ended = round_.has_ended()
    mine = services.my_votes(round_, current_user)
    context = {
        "round": round_,
        "ended": ended,
        "is_open": round_.is_open(),
        "show_counts": ended or round_.show_live_counts,
        "items": services.ranked_items(round_) if ended else round_.items,
        "my_votes": mine,
        "votes_left": round_.votes_per_member - len(mine),
        "vote_form": EmptyForm(),
    }
    if ended:
        eligible = services.eligible_members(round_)
        context["eligible"] = eligible
        context["turnout"] = round_.voter_count / eligible if eligible else 0
    return context


@bp.get("/rounds/<int:round_id>")
def round_page(round_id: int):
    round_ = _round_or_404(round_id)
    return render("voting/round.html", "voting/_ballot.html", context=_round_context(round_))


@bp.post("/rounds/<int:round_id>/vote")
@limiter.limit(_vote_limit)
@member_required
def vote(round_id: int):
    round_ = _round_or_404(round_id)
    form = EmptyForm()
    if not form.validate():
        abort(400)
    item_id = request.form.get("item", "")
    item = next((i for i in round_.items if str(i.id) == item_id), None)
    if item is None:
        abort(404)
    try:
        if request.form.get("action") == "remove":
            services.retract_vote(round_, item, current_user)
        else:
            services.cast_vote(round_, item, current_user)
        db.session.commit()
    except services.VotingError as error:
        db.session.rollback()
        flash(str(error), "error")
    if request.htmx and not request.htmx.boosted:
        db.session.expire_all()
        return render("voting/_ballot.html", context=_round_context(services.get_round(round_id)))
    return redirect_after_post(url_for("voting.round_page", round_id=round_id))


def _to_utc(local):
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


@bp.route("/admin/rounds", methods=["GET", "POST"])
@admin_required
def admin_rounds():
    form = RoundForm()
    if request.method == "POST":
        if not form.validate():
            return render_invalid(
                "voting/admin_rounds.html",
                context={"form": form, "rounds": services.recent_rounds()},
            )
        refs = form.refs()
        needs = list(db.session.scalars(sa.select(Need).where(Need.ref.in_(refs), Need.is_listed)))
        by_ref = {n.ref: n for n in needs}
        missing = [ref for ref in refs if ref not in by_ref]
        if missing:
            form.shortlist.errors.append(
                _("These references are not published needs: %(refs)s", refs=", ".join(missing))
            )
            return render_invalid(
                "voting/admin_rounds.html",
                context={"form": form, "rounds": services.recent_rounds()},
            )
        try:
            round_ = services.create_round(
                title=form.title.data,
                description=form.description.data or "",
                needs=[by_ref[ref] for ref in refs],
                votes_per_member=form.votes_per_member.data,
                starts_at=_to_utc(form.starts_at.data),
                ends_at=_to_utc(form.ends_at.data),
                show_live_counts=form.show_live_counts.data,
                actor=current_user,
            )
        except services.VotingError as error:
            db.session.rollback()
            form.shortlist.errors.append(str(error))
            return render_invalid(
                "voting/admin_rounds.html",
                context={"form": form, "rounds": services.recent_rounds()},
            )
        db.session.commit()
        flash(_("The round “%(title)s” is created.", title=round_.title), "success")
        return redirect_after_post(url_for("voting.round_page", round_id=round_.id))
    return render(
        "voting/admin_rounds.html", context={"form": form, "rounds": services.recent_rounds()}
    )
