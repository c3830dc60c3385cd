"""A deterministic demo ledger of the Changsha High-tech Zone (长沙高新区), July 2021.

It reproduces the seed article's figures exactly: 13,151 internet and related
enterprises in the zone; the mobile-internet chain committee with 11 party-mass
clusters and 168 enterprise organizations whose enterprises hold 3,677 party members;
98 of those organizations new since 2019; 44 key enterprises. Companies the article
names appear under their names; every other name and all credit codes are synthetic
(the codes carry valid GB 32100-2015 check characters).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from graph.credit_code import ALPHABET, check_character
from graph.dataset import Dataset
from graph.model import Category, OrgKind
from loaders import DEMO_DAY
from loaders.ledger import dataset_from_tables
from loaders.tables import table_from_records

PARK = "长沙高新区"
CHAIN = "移动互联网"

ACTIVE_ENTERPRISES = 13_151
ZOMBIE_ENTERPRISES = 37
CLOSED_ENTERPRISES = 24
ENTERPRISE_ORGANIZATIONS = 168
PARTY_MEMBERS = 3_677
NEW_SINCE_2019 = 98
KEY_ENTERPRISES = 44

PARK_COMMITTEE_ID = "GXQ"
CHAIN_COMMITTEE_ID = "GXQ-YDHL"
ALLIANCE_ID = "GXQ-YDHL-LM"

CLUSTERS: list[tuple[str, Category]] = [
    ("新闻资讯党群联组", Category.NEWS),
    ("社交媒体党群联组", Category.SOCIAL),
    ("网络直播党群联组", Category.SOCIAL),
    ("网络游戏党群联组", Category.GAMES),
    ("数字文创党群联组", Category.GAMES),
    ("电子商务党群联组", Category.ECOMMERCE),
    ("社区电商党群联组", Category.ECOMMERCE),
    ("数字金融党群联组", Category.FINANCE),
    ("大数据党群联组", Category.DATA),
    ("软件信息党群联组", Category.DATA),
    ("智慧医疗党群联组", Category.DATA),
]
CATEGORY_SHARE = {
    Category.NEWS: 8,
    Category.SOCIAL: 15,
    Category.GAMES: 17,
    Category.ECOMMERCE: 25,
    Category.FINANCE: 10,
    Category.DATA: 25,
}
NAME_SUFFIX = {
    Category.NEWS: "文化传媒有限公司",
    Category.SOCIAL: "网络科技有限公司",
    Category.GAMES: "互动娱乐有限公司",
    Category.ECOMMERCE: "电子商务有限公司",
    Category.FINANCE: "金融信息服务有限公司",
    Category.DATA: "数据科技有限公司",
}
BUILDINGS = [
    "麓谷企业广场",
    "中电软件园",
    "长沙软件园",
    "麓谷信息港",
    "湖南移动互联网产业园",
    "芯城科技园",
    "麓谷科技创新创业园",
    "长沙高新区创业服务中心",
    "岳麓峰会众创空间",
    "麓谷国际工业园",
    "尖山湖商圈",
    "麓谷新长海中心",
]
# (name as the seed writes it, category, kind, fewest members, secretary)
NAMED_COMPANIES: list[tuple[str, Category, OrgKind, int, str | None]] = [
    ("永雄集团", Category.ECOMMERCE, OrgKind.COMMITTEE, 120, "谭曼"),
    ("拓维信息", Category.DATA, OrgKind.COMMITTEE, 110, None),
    ("兴盛优选", Category.ECOMMERCE, OrgKind.COMMITTEE, 130, None),
    ("亚信软件", Category.DATA, OrgKind.GENERAL_BRANCH, 50, None),
    ("CSDN", Category.SOCIAL, OrgKind.GENERAL_BRANCH, 50, None),
    ("映客互娱", Category.SOCIAL, OrgKind.BRANCH, 12, None),
    ("草花互动", Category.GAMES, OrgKind.BRANCH, 9, None),
    ("湖南创星科技股份有限公司", Category.DATA, OrgKind.BRANCH, 17, None),
    ("竞网智赢", Category.DATA, OrgKind.BRANCH, 8, None),
    ("58到家", Category.ECOMMERCE, OrgKind.BRANCH, 10, None),
]
ORG_MIX = {OrgKind.COMMITTEE: 6, OrgKind.GENERAL_BRANCH: 12, OrgKind.BRANCH: 136, OrgKind.JOINT_BRANCH: 14}
MEMBER_RANGE = {OrgKind.COMMITTEE: (100, 240), OrgKind.GENERAL_BRANCH: (50, 99), OrgKind.BRANCH: (3, 49)}
TERM_YEARS = {OrgKind.COMMITTEE: 5, OrgKind.GENERAL_BRANCH: 3, OrgKind.BRANCH: 3, OrgKind.JOINT_BRANCH: 3}
DEPARTMENTS = [  # id, name, the industry category it looks after
    ("BM-DQ", "长沙高新区党群工作局", ""),
    ("BM-CYL", "长沙高新区产业链办公室", "DATA"),
    ("BM-QYFW", "长沙高新区企业服务中心", "ECOMMERCE"),
    ("BM-JG", "长沙高新区机关党委", ""),
    ("BM-XH", "长沙市互联网行业协会", "SOCIAL"),
    ("BM-JR", "长沙高新区金融服务中心", "FINANCE"),
    ("BM-WX", "长沙高新区网信办", "NEWS"),
    ("BM-WL", "长沙高新区文化旅游局", "GAMES"),
]
WORDS = [
    "云启",
    "星辰",
    "麓谷",
    "湘江",
    "橘洲",
    "岳麓",
    "芙蓉",
    "潇湘",
    "天心",
    "开福",
    "雨花",
    "望城",
    "梅溪",
    "洋湖",
    "桐梓",
    "金桥",
    "银杉",
    "青竹",
    "红枫",
    "蓝海",
    "智汇",
    "数联",
    "优品",
    "快乐",
    "阳光",
    "长风",
    "远航",
    "凌云",
    "博睿",
    "恒信",
    "安盛",
    "鼎新",
    "华章",
    "聚能",
    "拓景",
    "瑞达",
    "弘毅",
    "明德",
    "致远",
    "启航",
]

ENTERPRISE_COLUMNS = [
    "credit_code", "name", "park", "building", "chain", "category", "employees", "formal_members",
    "probationary_members", "above_scale", "key", "status", "registered_on", "cluster",
]  # fmt: skip


@dataclass
class _Company:
    code: str
    name: str
    category: Category
    cluster: str
    building: str | None
    registered_on: date
    status: str = "ACTIVE"
    members: int = 0
    employees: int = 0
    above_scale: bool = False
    key: bool = False
    covered: bool = False


@dataclass
class _Org:
    id: str
    name: str
    kind: OrgKind
    cluster: str
    established_on: date
    companies: list[_Company] = field(default_factory=list)
    secretary: str | None = None


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.codes: set[str] = set()
        self.cluster_ids = [f"YDHL-LZ{n:02d}" for n in range(1, len(CLUSTERS) + 1)]
        self.clusters_of = {
            category: [cid for cid, (_, c) in zip(self.cluster_ids, CLUSTERS, strict=True) if c is category]
            for category in CATEGORY_SHARE
        }

    def credit_code(self) -> str:
        while True:
            body = "91430100" + "".join(self.rng.choice(ALPHABET) for _ in range(9))
            code = body + check_character(body)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def companies(self) -> list[_Company]:
        rng = self.rng
        total = ACTIVE_ENTERPRISES + ZOMBIE_ENTERPRISES + CLOSED_ENTERPRISES
        names = [
            f"{city}{a}{b}{middle}"
            for city in ("湖南", "长沙")
            for a, b in itertools.permutations(WORDS, 2)
            for middle in ("", "智能", "数字", "互联", "信息", "创新")
        ]
        rng.shuffle(names)
        categories = rng.choices(list(CATEGORY_SHARE), weights=list(CATEGORY_SHARE.values()), k=total)
        named = [(name, category) for name, category, *_ in NAMED_COMPANIES]
        companies = []
        for index, category in enumerate(categories):
            name = names[index] + NAME_SUFFIX[category]
            if index < len(named):
                name, category = named[index]
            companies.append(
                _Company(
                    code=self.credit_code(),
                    name=name,
                    category=category,
                    cluster=rng.choice(self.clusters_of[category]),
                    building=rng.choice(BUILDINGS) if rng.random() < 0.7 else None,
                    registered_on=_day_between(rng, date(2003, 1, 1), DEMO_DAY),
                    employees=int(rng.lognormvariate(3.0, 1.0)) + 3,
                )
            )
        for index, company in enumerate(companies[ACTIVE_ENTERPRISES:]):
            company.status = "ZOMBIE" if index < ZOMBIE_ENTERPRISES else "CLOSED"
        return companies

    def organizations(self, companies: list[_Company]) -> list[_Org]:
        rng = self.rng
        active = companies[:ACTIVE_ENTERPRISES]
        named = {c.name: c for c in active[: len(NAMED_COMPANIES)]}
        pool = {cid: [c for c in active[len(NAMED_COMPANIES) :] if c.cluster == cid] for cid in self.cluster_ids}
        for companies_of_cluster in pool.values():
            rng.shuffle(companies_of_cluster)
        kinds = [kind for kind, n in ORG_MIX.items() for _ in range(n)]
        new_ones = set(rng.sample(range(ENTERPRISE_ORGANIZATIONS), NEW_SINCE_2019))
        orgs: list[_Org] = []
        joint_numbers: dict[str, int] = {}
        for index, (name, _, kind, _, secretary) in enumerate(NAMED_COMPANIES):
            kinds.remove(kind)
            company = named[name]
            orgs.append(self._org(index, kind, company.cluster, [company], index in new_ones, secretary))
        for index, kind in enumerate(kinds, start=len(orgs)):
            cluster = self.cluster_ids[index % len(self.cluster_ids)]
            if kind is OrgKind.JOINT_BRANCH:
                first = pool[cluster].pop()
                building = first.building = first.building or rng.choice(BUILDINGS)
                neighbours = [c for c in pool[cluster] if c.building == building][: rng.randint(1, 4)]
                for company in neighbours:
                    pool[cluster].remove(company)
                members = [first, *neighbours]
            else:
                members = [pool[cluster].pop()]
            orgs.append(self._org(index, kind, cluster, members, index in new_ones, None))
            if kind is OrgKind.JOINT_BRANCH:
                number = joint_numbers[building] = joint_numbers.get(building, 0) + 1
                orgs[-1].name = f"{building}第{number}联合党支部"
        self._assign_members(orgs, named)
        return orgs

    def _org(
        self, index: int, kind: OrgKind, cluster: str, companies: list[_Company], new: bool, secretary: str | None
    ) -> _Org:
        rng = self.rng
        first, last = (date(2019, 1, 1), DEMO_DAY) if new else (date(2008, 1, 1), date(2018, 12, 31))
        established = _day_between(rng, first, last)
        suffix = {OrgKind.COMMITTEE: "党委", OrgKind.GENERAL_BRANCH: "党总支", OrgKind.BRANCH: "党支部"}.get(kind, "")
        for company in companies:
            company.covered = True
            company.registered_on = min(company.registered_on, established - timedelta(days=rng.randint(60, 3000)))
            if kind in (OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH):
                company.above_scale = True
        short = companies[0].name.removesuffix(NAME_SUFFIX.get(companies[0].category, ""))
        return _Org(f"YDHL-{index + 1:04d}", short + suffix, kind, cluster, established, companies, secretary)

    def _assign_members(self, orgs: list[_Org], named: dict[str, _Company]) -> None:
        """Members per covered company, adjusted so the chain holds exactly PARTY_MEMBERS."""
        rng = self.rng
        floors = {named[name].code: fewest for name, _, _, fewest, _ in NAMED_COMPANIES}
        adjustable = []
        for org in orgs:
            for company in org.companies:
                if org.kind is OrgKind.JOINT_BRANCH:
                    company.members = rng.randint(1, 2)
                else:
                    low, high = MEMBER_RANGE[org.kind]
                    low = max(low, floors.get(company.code, low))
                    company.members = min(high, low + int(rng.expovariate(1 / 8)))
                    if org.kind is OrgKind.BRANCH:
                        adjustable.append((company, low, high))
            if org.kind is OrgKind.JOINT_BRANCH and sum(c.members for c in org.companies) < 3:
                org.companies[0].members = 3 - sum(c.members for c in org.companies[1:])
        difference = PARTY_MEMBERS - sum(c.members for org in orgs for c in org.companies)
        for company, low, high in itertools.cycle(adjustable):
            if difference == 0:
                break
            step = 1 if difference > 0 else -1
            if low <= company.members + step <= high:
                company.members += step
                difference -= step
        for org in orgs:
            for company in org.companies:
                company.employees = max(company.employees, company.members * rng.randint(3, 12))

    def extra_members(self, companies: list[_Company]) -> None:
        """Uncovered ACTIVE companies with a member or two; a few with three or more (must build)."""
        rng = self.rng
        uncovered = [c for c in companies[:ACTIVE_ENTERPRISES] if not c.covered]
        for company in rng.sample(uncovered, 360):
            company.members = rng.randint(1, 2)
        for company in rng.sample([c for c in uncovered if c.members == 0], 15):
            company.members = rng.randint(3, 6)

    def mark_key(self, orgs: list[_Org]) -> None:
        """The named companies and enough others with their own organization are key (重点企业)."""
        named, others = orgs[: len(NAMED_COMPANIES)], orgs[len(NAMED_COMPANIES) :]
        standalone = [org for org in others if org.kind is not OrgKind.JOINT_BRANCH]
        for org in named + self.rng.sample(standalone, KEY_ENTERPRISES - len(named)):
            org.companies[0].key = org.companies[0].above_scale = True


def _split(rng: random.Random, members: int) -> tuple[int, int]:
    """(formal, probationary): a few probationary members among larger memberships."""
    probationary = rng.randint(0, members // 12) if members >= 12 else 0
    return members - probationary, probationary


def demo_records(seed: int = 2021) -> dict[str, list[dict[str, str]]]:
    """The demo ledger as rows of text cells with English headers, table by table."""
    generator = _Generator(seed)
    rng = generator.rng
    companies = generator.companies()
    orgs = generator.organizations(companies)
    generator.extra_members(companies)
    generator.mark_key(orgs)

    enterprises = []
    for company in companies:
        formal, probationary = _split(rng, company.members)
        enterprises.append(
            {
                "credit_code": company.code,
                "name": company.name,
                "park": PARK,
                "building": company.building or "",
                "chain": CHAIN,
                "category": company.category.value,
                "employees": str(company.employees),
                "formal_members": str(formal),
                "probationary_members": str(probationary),
                "above_scale": "是" if company.above_scale else "否",
                "key": "是" if company.key else "否",
                "status": company.status,
                "registered_on": company.registered_on.isoformat(),
                "cluster": company.cluster,
            }
        )

    organizations = [
        {"id": PARK_COMMITTEE_ID, "name": "长沙高新区党工委", "kind": OrgKind.PARK_COMMITTEE.value,
         "parent_id": "", "established_on": "2009-03-01"},
        {"id": CHAIN_COMMITTEE_ID, "name": "移动互联网行业(产业链)党委", "kind": OrgKind.CHAIN_COMMITTEE.value,
         "parent_id": PARK_COMMITTEE_ID, "established_on": "2019-05-20"},
        {"id": ALLIANCE_ID, "name": "移动互联网党建联盟", "kind": OrgKind.ALLIANCE.value,
         "parent_id": CHAIN_COMMITTEE_ID, "established_on": "2020-06-30"},
    ]  # fmt: skip
    organizations += [
        {"id": cid, "name": name, "kind": OrgKind.CLUSTER.value, "parent_id": CHAIN_COMMITTEE_ID,
         "established_on": "2019-07-01"}
        for cid, (name, _) in zip(generator.cluster_ids, CLUSTERS, strict=True)
    ]  # fmt: skip
    for org in orgs:
        term = TERM_YEARS[org.kind]
        ends = org.established_on
        while ends <= DEMO_DAY:
            ends = ends.replace(year=ends.year + term, day=min(ends.day, 28))
        organizations.append(
            {
                "id": org.id,
                "name": org.name,
                "kind": org.kind.value,
                "parent_id": org.cluster,
                "mode": "JOINT" if org.kind is OrgKind.JOINT_BRANCH else "STANDALONE",
                "established_on": org.established_on.isoformat(),
                "term_ends_on": ends.isoformat(),
                "secretary": org.secretary or "",
                "stars": str(stars := rng.randint(1, 5)),
                "points": str(stars * 100 + int(org.id[-4:]) * 7 % 97),  # 积分, in step with the stars
                "has_committee": _has_committee(org),
            }
        )

    coverage = [{"org_id": org.id, "credit_code": c.code} for org in orgs for c in org.companies]
    return {
        "enterprises": enterprises,
        "organizations": organizations,
        "coverage": coverage,
        "departments": [{"id": did, "name": name, "sector": sector} for did, name, sector in DEPARTMENTS],
        "links": _links(rng, orgs),
        "instructors": _instructors(rng, companies),
    }


def _has_committee(org: _Org) -> str:
    """A branch of seven or more members has its committee, save every sixth; others leave it blank."""
    if org.kind not in (OrgKind.BRANCH, OrgKind.JOINT_BRANCH):
        return ""
    members = sum(company.members for company in org.companies)
    return "是" if members >= 7 and int(org.id[-4:]) % 6 else "否"


def _links(rng: random.Random, orgs: list[_Org]) -> list[dict[str, str]]:
    def link(source: str, target: str, kind: str, since: date) -> dict[str, str]:
        return {"source_id": source, "target_id": target, "kind": kind, "since": since.isoformat()}

    joint = [o for o in orgs if o.kind is OrgKind.JOINT_BRANCH]
    committees = [o for o in orgs if o.kind is OrgKind.COMMITTEE]
    branches = [o for o in orgs if o.kind is OrgKind.BRANCH]
    rows = [link(DEPARTMENTS[n % 4][0], o.id, "PAIRING", o.established_on) for n, o in enumerate(joint)]
    rows += [link(PARK_COMMITTEE_ID, o.id, "PARK_JOINT", o.established_on) for o in joint[:5]]
    rows += [link("BM-XH", o.id, "ASSOCIATION_HELP", date(2020, 9, 1)) for o in rng.sample(branches, 6)]
    for committee in committees:
        peers = [b for b in branches if b.cluster == committee.cluster][:3]
        rows += [link(committee.id, b.id, "CHAIN_CO_BUILD", date(2020, 3, 1)) for b in peers]
    lead, *members = committees + branches[:8]  # the first committee leads the alliance (盟主单位)
    rows += [link(lead.id, ALLIANCE_ID, "ALLIANCE_LEAD", date(2020, 6, 30))]
    rows += [link(o.id, ALLIANCE_ID, "ALLIANCE", date(2020, 6, 30)) for o in members]
    ecommerce = [o.companies[0].code for o in orgs if o.companies[0].category is Category.ECOMMERCE][:6]
    rows += [link(ecommerce[0], code, "SUPPLY", date(2020, 1, 1)) for code in ecommerce[1:]]
    return rows


def _instructors(rng: random.Random, companies: list[_Company]) -> list[dict[str, str]]:
    """25 instructors, each reaching 12 to 20 uncovered ACTIVE companies (work coverage)."""
    uncovered = [c for c in companies[:ACTIVE_ENTERPRISES] if not c.covered]
    with_members = [c for c in uncovered if c.members]
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩"
    rows = []
    for n in range(25):
        name = surnames[n] + rng.choice(["建华", "丽娟", "志强", "晓燕", "国庆", "海燕", "卫东", "红梅"])
        reached = rng.sample(with_members, 8) + rng.sample(uncovered, rng.randint(4, 12))
        for company in {c.code: c for c in reached}.values():
            since = _day_between(rng, date(2019, 6, 1), DEMO_DAY)
            rows.append(
                {"id": f"ZDY-{n + 1:02d}", "name": name, "credit_code": company.code, "since": since.isoformat()}
            )
    return rows


def demo_dataset(seed: int = 2021) -> Dataset:
    """The demo, validated exactly as a ledger from disk would be."""
    tables = {name: table_from_records(name, rows) for name, rows in demo_records(seed).items()}
    return dataset_from_tables(tables, origin="demo").dataset
