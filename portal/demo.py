"""A realistic bilingual demo data set, loaded by `flask portal seed-demo`.

Every state change goes through the workflow, so the demo timelines are the
same kind of record a real need gets."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import current_app

from portal.areas.demo import DEMO_NEED_AREAS, seed_demo_areas
from portal.auth.models import Role, User
from portal.categories.models import Category
from portal.comments.models import Comment
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Channel, Need, NeedStatus
from portal.needs.services import Submission, new_idempotency_key, submit_need
from portal.partners.cohandlers import add_co_handlers, ask_for_input, give_input
from portal.partners.models import (
    Assignment,
    Organisation,
    OrganisationKind,
    OrganisationResource,
    ResourceKind,
)
from portal.photos.demo import add_demo_photos
from portal.projects.demo import seed_demo_projects
from portal.routing.services import add_rule
from portal.voting.services import create_round
from portal.workdays.models import CalendarDay, DayKind
from portal.workdays.services import add_working_days, local_today
from portal.workflow.models import TimelineEvent
from portal.workflow.services import PATH_TO, Actor, transition

DEMO_ACCOUNTS = [
    ("admin@huiju.example", "demo-admin-pass-2026", "admin"),
    ("union@huiju.example", "demo-partner-pass-2026", "partner"),
    # The city federation's partner admin: invites its staff, keeps its resources.
    ("union-admin@huiju.example", "demo-partner-pass-2026", "partner"),
    ("youth@huiju.example", "demo-partner-pass-2026", "partner"),
    ("member@huiju.example", "demo-member-pass-2026", "member"),
]

ORGANISATIONS = [
    (
        "union",
        "市总工会",
        "City Federation of Trade Unions",
        OrganisationKind.UNION,
        "维护职工权益，提供法律援助、技能培训和困难帮扶。",
        "Protects workers' rights; legal aid, skills training and hardship support.",
    ),
    (
        "youth",
        "共青团市委",
        "Communist Youth League City Committee",
        OrganisationKind.YOUTH_LEAGUE,
        "服务青年就业创业、青少年成长和志愿服务。",
        "Youth employment and entrepreneurship, growing up well, volunteering.",
    ),
    (
        "women",
        "市妇联",
        "City Women's Federation",
        OrganisationKind.WOMENS_FEDERATION,
        "关注妇女儿童权益、家庭教育和托育服务。",
        "Rights of women and children, family education and childcare.",
    ),
    (
        "science",
        "市科协",
        "City Association for Science and Technology",
        OrganisationKind.SCIENCE_ASSOCIATION,
        "科普活动、专家资源和科技志愿服务。",
        "Popular science, expert networks and science volunteers.",
    ),
    (
        "housing",
        "市住房和城乡建设局",
        "City Housing and Urban-Rural Development Bureau",
        OrganisationKind.GOVERNMENT,
        "老旧小区改造、物业管理和住房保障。",
        "Renovation of old estates, property management, housing support.",
    ),
    (
        "ngo",
        "阳光社区服务中心",
        "Sunshine Community Service Centre",
        OrganisationKind.NGO,
        "为老年人和残障人士提供上门服务和社区活动。",
        "Home visits and community activities for older and disabled people.",
    ),
    (
        "district_union",
        "东城区总工会",
        "Dongcheng District Federation of Trade Unions",
        OrganisationKind.UNION,
        "市总工会下属的区总工会，就近服务东城区职工。",
        "The city federation's district union, serving Dongcheng's workers close to home.",
    ),
]

#: The organisations' hierarchy: a district union under the city federation,
#: whose staff read what the district handles and may reassign it.
PARENTS = {"district_union": "union"}

CATEGORIES = [
    ("workers", "职工权益", "Workers' rights", "union", 3, 15),
    ("youth", "青年发展", "Youth development", "youth", 3, 20),
    ("family", "妇女儿童与家庭", "Women, children and family", "women", 3, 15),
    ("science", "科普与技能", "Science and skills", "science", 5, 30),
    ("housing", "住房与社区环境", "Housing and neighbourhood", "housing", 2, 10),
    ("care", "养老与助残", "Elderly and disability care", "ngo", 2, 10),
]

RESOURCES = [
    ("union", ResourceKind.EXPERTS, "劳动法律师团队 5 人 / five labour lawyers"),
    ("union", ResourceKind.VENUES, "职工之家活动室 / workers' club rooms"),
    ("youth", ResourceKind.VOLUNTEERS, "青年志愿者 200 人 / 200 young volunteers"),
    ("women", ResourceKind.TRAINING, "家庭教育讲师 / family-education trainers"),
    ("science", ResourceKind.EQUIPMENT, "科普大篷车 / a mobile science lab"),
    ("ngo", ResourceKind.VOLUNTEERS, "助老志愿者 / volunteers for older people"),
]

# Example exceptions to the working week; admins enter the official schedule.
CALENDAR = [
    (date(2026, 10, 1), DayKind.HOLIDAY, "国庆节 National Day"),
    (date(2026, 10, 2), DayKind.HOLIDAY, "国庆节 National Day"),
    (date(2026, 10, 5), DayKind.HOLIDAY, "国庆节 National Day"),
    (date(2026, 10, 6), DayKind.HOLIDAY, "国庆节 National Day"),
    (date(2026, 10, 7), DayKind.HOLIDAY, "国庆节 National Day"),
    (date(2026, 10, 10), DayKind.WORKDAY, "国庆节调休上班 make-up working day"),
    (date(2027, 1, 1), DayKind.HOLIDAY, "元旦 New Year's Day"),
]

# (category, title, body, place, final state)
NEEDS = [
    (
        "housing",
        "小区停车难，晚上车位严重不足",
        "我们小区是2000年前建的老小区，只有60个车位，住户却有300多辆车。晚上消防通道也停满了车，希望能规划更多车位或开放周边停车场夜间停车。",
        "朝阳区和平里三区",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "housing",
        "老旧楼道照明损坏",
        "3号楼2单元楼道灯坏了一个多月，老人晚上上下楼很危险。",
        "东城区建国门北街5号院",
        NeedStatus.RESOLVED,
    ),
    (
        "housing",
        "Lift out of service for three weeks",
        "The lift in building 7 has been broken for three weeks. Several residents on the upper floors use wheelchairs and cannot leave home.",
        "Wangjing West Estate, building 7",
        NeedStatus.ACCEPTED,
    ),
    (
        "housing",
        "小区垃圾分类点异味严重",
        "垃圾分类投放点离居民楼太近，夏天异味很大，清运不及时。",
        "海淀区学院路社区",
        NeedStatus.ROUTED,
    ),
    (
        "housing",
        "Leaking roof in the community centre",
        "Water comes through the roof of the community activity room whenever it rains; the floor is slippery.",
        "Xiangyang Community Centre",
        NeedStatus.CLOSED,
    ),
    (
        "workers",
        "外卖骑手缺少休息驿站",
        "附近商圈外卖骑手很多，但没有可以休息、喝水、充电的地方，希望建设户外劳动者驿站。",
        "国贸商圈",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "workers",
        "Unpaid overtime at a logistics warehouse",
        "Warehouse staff are regularly asked to work two extra hours without pay. We would like advice on our rights and help talking to the employer.",
        "Majuqiao logistics park",
        NeedStatus.ACCEPTED,
    ),
    (
        "workers",
        "希望开设夜间技能培训班",
        "很多一线职工白天上班，希望工会开设晚上的电工、焊工等技能培训班。",
        "",
        NeedStatus.OPEN,
    ),
    (
        "workers",
        "农民工工资拖欠求助",
        "工地拖欠我们十几个人三个月工资，希望工会提供法律援助。",
        "通州区某建筑工地",
        NeedStatus.RESOLVED,
    ),
    (
        "workers",
        "Lactation room for women workers",
        "Our factory has 400 women workers but no lactation room. Could the union help us ask for one?",
        "Yizhuang industrial zone",
        NeedStatus.ROUTED,
    ),
    (
        "youth",
        "高校毕业生求职指导",
        "希望在社区组织面向应届毕业生的简历指导和模拟面试活动。",
        "",
        NeedStatus.OPEN,
    ),
    (
        "youth",
        "Study space for students during holidays",
        "Students in our area have no quiet place to study during the winter holiday. Could the youth centre open longer?",
        "Youth Activity Centre, Xicheng",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "youth",
        "青年创业场地租金太高",
        "想在社区开设小型文创工作室，但场地租金太高，希望有青年创业孵化空间。",
        "",
        NeedStatus.SUBMITTED,
    ),
    (
        "youth",
        "Volunteer matching for young people",
        "Many young people want to volunteer but don't know where. A simple way to find local volunteering would help.",
        "",
        NeedStatus.OPEN,
    ),
    (
        "youth",
        "青少年网络沉迷问题",
        "孩子放学后长时间玩手机游戏，希望社区组织更多课外活动。",
        "丰台区方庄",
        NeedStatus.ACCEPTED,
    ),
    (
        "family",
        "社区缺少普惠托育机构",
        "双职工家庭多，0-3岁孩子无人照看，附近托育机构收费太高，希望建设普惠托育点。",
        "昌平区回龙观",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "family",
        "After-school care for primary pupils",
        "School ends at 3:30 pm but parents work until 6. We need after-school care in the neighbourhood.",
        "Tiantongyuan North",
        NeedStatus.ROUTED,
    ),
    (
        "family",
        "家庭教育讲座需求",
        "希望妇联在社区开展家庭教育和亲子沟通方面的讲座。",
        "",
        NeedStatus.CLOSED,
    ),
    (
        "family",
        "反家暴求助渠道不清楚",
        "很多居民不知道遇到家庭暴力时可以向哪里求助，希望加强宣传。",
        "",
        NeedStatus.RESOLVED,
    ),
    (
        "family",
        "Safe crossing near the kindergarten",
        "Cars drive fast past the kindergarten gate at drop-off time. We need a crossing guard or speed bumps.",
        "Sunshine Kindergarten, Dongba",
        NeedStatus.OPEN,
    ),
    (
        "science",
        "社区科普活动太少",
        "希望科协组织一些面向中小学生的科普实验活动。",
        "",
        NeedStatus.ACCEPTED,
    ),
    (
        "science",
        "Digital skills for older residents",
        "Older residents struggle with health codes, online payments and booking hospital appointments. Could volunteers teach them?",
        "Hepingli Community",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "science",
        "防范电信诈骗宣传",
        "社区老人频繁接到诈骗电话，希望组织防诈骗知识讲座。",
        "",
        NeedStatus.RESOLVED,
    ),
    (
        "science",
        "Maker space equipment for the youth centre",
        "The youth centre has a room but no equipment. A 3D printer and basic electronics kits would start a maker club.",
        "",
        NeedStatus.SUBMITTED,
    ),
    (
        "care",
        "独居老人缺少探访",
        "楼里有好几位独居老人，子女不在身边，希望有志愿者定期探访。",
        "西城区广安门外",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "care",
        "Wheelchair ramp at the clinic entrance",
        "The community clinic has steps at the entrance and no ramp. Wheelchair users have to be carried in.",
        "Jinsong Community Clinic",
        NeedStatus.RESOLVED,
    ),
    (
        "care",
        "社区老年食堂",
        "希望在社区开设老年食堂，解决老人吃饭难问题。",
        "石景山区八角",
        NeedStatus.ROUTED,
    ),
    ("care", "助浴服务需求", "失能老人洗澡困难，希望提供上门助浴服务。", "", NeedStatus.OPEN),
    (
        "care",
        "Sign-language interpreter at community events",
        "Deaf residents cannot follow community meetings. An interpreter at the monthly meeting would let them take part.",
        "",
        NeedStatus.ACCEPTED,
    ),
    (
        "housing",
        "小区绿化带被占用种菜",
        "部分居民把公共绿化带开垦成菜地，希望物业处理。",
        "",
        NeedStatus.REJECTED,
    ),
    (
        "housing",
        "Noise from night-time construction",
        "A construction site works past midnight several nights a week.",
        "Shuangjing",
        NeedStatus.WITHDRAWN,
    ),
    (
        "workers",
        "职工食堂饭菜价格上涨",
        "园区职工食堂饭菜价格一年涨了30%，希望工会协调。",
        "中关村软件园",
        NeedStatus.OPEN,
    ),
    (
        "youth",
        "篮球场夜间照明",
        "社区篮球场晚上没有灯，年轻人下班后无法打球。",
        "大兴区旧宫",
        NeedStatus.CLOSED,
    ),
    (
        "family",
        "Breastfeeding room in the metro station",
        "The transfer station has no room for nursing mothers.",
        "Xizhimen station",
        NeedStatus.SUBMITTED,
    ),
    (
        "care",
        "老年人防跌倒改造",
        "希望为高龄老人家中免费安装扶手和防滑垫。",
        "",
        NeedStatus.IN_PROGRESS,
    ),
    (
        "science",
        "Coding club for girls",
        "Girls in our middle school would like a coding club with women engineers as mentors.",
        "No. 80 Middle School",
        NeedStatus.OPEN,
    ),
    (
        "workers",
        "快递员冬季缺少取暖歇脚点",
        "东四一带快递员很多，冬天送件间隙没有可以取暖、喝热水的地方，希望就近设立暖心驿站。",
        "东城区东四北大街",
        NeedStatus.IN_PROGRESS,
    ),
]

#: Needs routed to another partner than their category's (by title): the
#: district union handles one, and the city federation reads it from above.
ROUTED_TO = {"快递员冬季缺少取暖歇脚点": "district_union"}


TEXTS = {
    "reject": "这是小区内部管理事务，请联系物业或居委会。/ This is a matter for the estate management.",
    "resolve": "问题已处理完毕，感谢您的反馈。/ The problem has been fixed. Thank you for telling us.",
}


COMMENTS = [
    "我们楼也有同样的问题，晚上回家很不方便。",
    "上周末我也看到了，希望尽快处理。参考: https://huiju.example/help",
    "Same here — thanks for raising it.",
]


def load_demo_data(seed: int = 2026) -> dict[str, int]:
    rng = random.Random(seed)
    orgs: dict[str, Organisation] = {}
    for key, zh, en, kind, desc_zh, desc_en in ORGANISATIONS:
        org = Organisation(
            name_zh=zh,
            name_en=en,
            kind=kind,
            description_zh=desc_zh,
            description_en=desc_en,
            contact_email=f"{key}@partners.huiju.example",
        )
        db.session.add(org)
        orgs[key] = org
    for key, parent in PARENTS.items():
        orgs[key].parent = orgs[parent]  # its path follows when it is inserted
    categories: dict[str, Category] = {}
    for position, (code, zh, en, org_key, response_days, resolution_days) in enumerate(CATEGORIES):
        category = Category(
            code=code,
            name_zh=zh,
            name_en=en,
            default_partner=orgs[org_key],
            response_sla_days=response_days,
            resolution_sla_days=resolution_days,
            position=position,
        )
        db.session.add(category)
        categories[code] = category

    for category_code, _zh, _en, org_key, _r, _s in CATEGORIES:
        orgs[org_key].categories.append(categories[category_code])
    orgs["district_union"].categories.append(categories["workers"])
    for org_key, kind, description in RESOURCES:
        orgs[org_key].resources.append(OrganisationResource(kind=kind, description=description))
    for day, kind, name in CALENDAR:
        db.session.add(CalendarDay(day=day, kind=kind, name=name))

    users: dict[str, User] = {}
    for email, password, role in DEMO_ACCOUNTS:
        user = User(
            email=email,
            display_name=email.split("@")[0].title(),
            role=Role(role),
            email_verified_at=utcnow(),
            consent_notice_version=current_app.config["PRIVACY_NOTICE_VERSION"],
            consent_at=utcnow(),
        )
        if email.startswith("union"):
            user.organisation = orgs["union"]
            user.manages_organisation = email.startswith("union-admin")
        elif email.startswith("youth"):
            user.organisation = orgs["youth"]
        user.set_password(password)
        db.session.add(user)
        users[email] = user
    db.session.flush()

    admin = users["admin@huiju.example"]
    areas = seed_demo_areas()
    # Routing by area beside the categories' default partners: the volunteer
    # NGO takes every need of Dongcheng's Jianguomen street, the women's
    # federation the family needs of Chaoyang.
    add_rule(None, areas["110101008"], orgs["ngo"], admin)
    add_rule(categories["family"], areas["110105"], orgs["women"], admin)
    now = utcnow()
    needs: list[Need] = []
    for index, (code, title, body, place, final) in enumerate(NEEDS):
        category = categories[code]
        area = areas.get(DEMO_NEED_AREAS.get(index, ""))
        need, _token = submit_need(
            Submission(
                title=title,
                body=body,
                category_id=category.id,
                place=place,
                area_id=area.id if area is not None else None,
                email="",
                idempotency_key=new_idempotency_key(),
                locale=current_app.config["BABEL_DEFAULT_LOCALE"],
                channel=rng.choice([Channel.WEB, Channel.WEB, Channel.WEB, Channel.PHONE]),
            ),
            Actor.public(),
        )
        partner = orgs[ROUTED_TO[title]] if title in ROUTED_TO else category.default_partner
        staff = _partner_staff(partner, users)
        for move in PATH_TO[final]:
            if move in ("accept", "start", "resolve"):
                actor = Actor.staff(staff)
            elif move in ("close", "withdraw"):
                actor = Actor.submitter(token_verified=True)
            else:
                actor = Actor.staff(admin)
            transition(
                need,
                move,
                actor,
                text=TEXTS.get(move, ""),
                organisation=partner if move == "route" else None,
            )
        db.session.flush()
        needs.append(need)
        _spread_in_time(need, now - timedelta(days=60 - index * 1.5, hours=rng.randint(0, 12)), rng)
    _demo_co_handling(needs, list(orgs.values()), admin, users)
    _demo_round(admin, now)
    seed_demo_projects(list(orgs.values()), needs, admin)
    _demo_comments(needs, users["member@huiju.example"])
    add_demo_photos([need for need in needs if need.is_listed][:4])
    return {
        "categories": len(categories),
        "organisations": len(orgs),
        "areas": len(areas),
        "needs": len(NEEDS),
    }


def _demo_co_handling(
    needs: list[Need], organisations: list[Organisation], admin: User, users: dict[str, User]
) -> None:
    """A need in work with a supporting partner (协办) that was asked for its
    input and gave it, and another one whose supporter's input is awaited."""
    in_work = [n for n in needs if n.status.is_in_work]
    for index, need in enumerate(in_work[:2]):
        supporter = next(o for o in organisations if o.id != need.assigned_organisation_id)
        add_co_handlers(need, [supporter], admin)
        db.session.flush()
        ask_for_input(
            need,
            supporter.id,
            admin,
            "能否协调志愿者或场地，协助本诉求的办理？",
            local_today() + timedelta(days=5),
        )
        if index == 0:
            give_input(
                need, _partner_staff(supporter, users), "可以安排 6 名志愿者，本周六上午到场。"
            )
    db.session.flush()


def _demo_comments(needs: list[Need], member: User) -> None:
    listed = [need for need in needs if need.is_listed][:3]
    for number, need in enumerate(listed):
        db.session.add(
            Comment(
                need_id=need.id,
                author_id=member.id,
                body=COMMENTS[number % len(COMMENTS)],
                client_token=f"demo-{need.id}",
            )
        )


def _demo_round(admin: User, now) -> None:
    """An open priority round over the open needs, so voting can be tried."""
    shortlist = list(
        db.session.scalars(
            db.select(Need).where(Need.status == NeedStatus.OPEN).order_by(Need.id).limit(6)
        )
    )
    create_round(
        title="2027年度社区民生实事票选 / Community priorities for 2027",
        description="每位会员有3票，请投给您认为最急需解决的事项。/ Each member has 3 votes.",
        needs=shortlist,
        votes_per_member=3,
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=12),
        show_live_counts=True,
        actor=admin,
    )


def _partner_staff(partner: Organisation, users: dict[str, User]) -> User:
    """A staff account of this partner: the demo logins for two of them, a
    generated one for the others."""
    for user in users.values():
        if user.organisation is partner:
            return user
    user = User(
        email=f"staff-{partner.contact_email}",
        display_name=partner.name_en,
        role=Role.PARTNER,
        organisation=partner,
    )
    db.session.add(user)
    users[user.email] = user
    db.session.flush()
    return user


def _spread_in_time(need, start, rng: random.Random) -> None:
    """Give the demo history believable dates instead of all of it happening now."""
    need.created_at = start
    moment = start
    events = db.session.scalars(
        db.select(TimelineEvent).where(TimelineEvent.need_id == need.id).order_by(TimelineEvent.id)
    )
    for event in events:
        event.created_at = moment
        if event.move == "publish":
            need.published_at = moment
        if event.move == "route":
            _backdate_assignment(need, moment)
        if event.move == "resolve":
            need.resolved_at = moment
        moment += timedelta(hours=rng.randint(4, 72))
    need.updated_at = moment


def _backdate_assignment(need, routed_at) -> None:
    """The assignment's deadlines follow the demo routing date, so some demo
    needs are overdue and the reminders have something to do."""
    assignment = db.session.scalar(
        db.select(Assignment).where(Assignment.need_id == need.id).order_by(Assignment.id.desc())
    )
    assignment.created_at = routed_at
    assignment.response_due_at = add_working_days(routed_at, need.category.response_sla_days)
    assignment.due_at = add_working_days(routed_at, need.category.resolution_sla_days)
    if assignment.responded_at is not None:
        assignment.responded_at = routed_at
