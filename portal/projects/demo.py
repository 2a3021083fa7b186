"""Demo projects for `flask portal seed-demo` (called from portal/demo.py):
two projects with milestones (one late), commitments (one delivered), an
update, and one proposal waiting for review."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from portal.needs.models import Need
from portal.needs.services import new_idempotency_key
from portal.partners.models import Organisation, ResourceKind
from portal.projects import services
from portal.projects.models import ProjectStatus


def _staff(organisation: Organisation, fallback: User) -> User:
    user = db.session.scalar(
        sa.select(User)
        .where(User.organisation_id == organisation.id, User.role == Role.PARTNER)
        .limit(1)
    )
    return user or fallback


def seed_demo_projects(organisations: list[Organisation], needs: list[Need], admin: User) -> None:
    """`organisations`: at least three partners (the first leads the first
    project); `needs`: published needs to link (only listed ones are used)."""
    listed = [n for n in needs if n.is_listed]
    if len(organisations) < 3 or len(listed) < 2:
        return
    first, second, third = organisations[:3]
    today = services.local_today()

    riders = services.create_project(
        services.ProjectData(
            title="新就业形态劳动者技能提升计划 / Skills for delivery riders",
            background="外卖骑手和网约车司机反映缺少安全培训和职业发展渠道。",
            goal="为新就业形态劳动者开展交通安全和职业技能培训。",
            expected_result="骑手事故率下降，持证上岗人数增加。",
            target="培训200名骑手 / 200 riders trained",
            target_value=200,
            budget=Decimal("80000.00"),
            lead_id=first.id,
            supporter_ids=[second.id],
            needs=listed[:1],
        ),
        admin,
    )
    lead_staff = _staff(first, admin)
    services.change_status(riders, admin, ProjectStatus.IN_PROGRESS)
    venue = services.add_milestone(
        riders, admin, "落实培训场地 / Venue found", today - timedelta(40)
    )
    services.add_milestone(riders, admin, "招募讲师 / Trainers recruited", today - timedelta(7))
    services.add_milestone(riders, admin, "首期培训 / First course", today + timedelta(21))
    services.complete_milestone(riders, venue, admin, today - timedelta(35))
    hall = services.add_commitment(
        riders,
        admin,
        services.CommitmentData(
            first.id, None, ResourceKind.VENUES, "职工服务中心培训室 / Training room", None, None
        ),
    )
    services.mark_delivered(riders, hall, admin)
    services.add_commitment(
        riders,
        admin,
        services.CommitmentData(
            second.id, None, ResourceKind.VOLUNTEERS, "青年志愿讲师 / Volunteer trainers", 5, None
        ),
    )
    services.post_update(
        riders,
        lead_staff,
        "培训场地已落实，**首期培训**将于下月开班。\n\n"
        "The training room is ready; the *first course* starts next month.",
    )

    childcare = services.create_project(
        services.ProjectData(
            title="社区暑期托管服务 / Summer childcare in the community",
            background="双职工家庭暑期看护难。",
            goal="在三个社区开设暑期托管班。",
            expected_result="家长安心工作，孩子有人照看。",
            target="3个托管点，服务150名儿童 / 3 sites, 150 children",
            target_value=150,
            budget=Decimal("45000.00"),
            lead_id=third.id,
            supporter_ids=[first.id],
            needs=listed[1:2],
        ),
        admin,
    )
    services.add_milestone(childcare, admin, "确定托管点 / Sites agreed", today + timedelta(14))
    services.add_commitment(
        childcare,
        admin,
        services.CommitmentData(
            first.id,
            None,
            ResourceKind.FUNDS,
            "暑期托管补贴 / Childcare subsidy",
            None,
            Decimal("20000.00"),
        ),
    )

    proposer = (
        db.session.scalar(
            sa.select(User)
            .where(User.role == Role.MEMBER, User.email_verified_at.is_not(None))
            .order_by(User.id)
            .limit(1)
        )
        or admin
    )
    services.submit_proposal(
        services.ProposalData(
            title="老旧小区加装电梯协调 / Lifts for old residential buildings",
            background="多栋老旧住宅楼居民年龄偏大，上下楼困难。",
            goal="协调居民意见和资金，推动加装电梯。",
            expected_result="试点楼栋完成加装。",
            target="试点5栋楼 / 5 pilot buildings",
            target_value=5,
            resources_needed="工程专家、协调资金。/ Engineers and funds.",
            partner_ids=[o.id for o in organisations[:2]],
            needs=listed[2:3],
        ),
        proposer,
        new_idempotency_key(),
    )
