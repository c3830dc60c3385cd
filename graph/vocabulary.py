"""The Chinese names of the domain's enum values, as ledgers and administrators use them.

The first name of each member is its term: the label shown for it (a category in
`coverageBy`, an enum value in the API's documentation). The others are spellings
the ledger loader also accepts.
"""

from __future__ import annotations

from enum import Enum

from graph.model import Category, FormationMode, LinkKind, OrgKind, Status

ENUM_NAMES: dict[type, dict[str, tuple[str, ...]]] = {
    OrgKind: {
        "PARK_COMMITTEE": ("党工委", "园区党工委"),
        "CHAIN_COMMITTEE": ("行业(产业链)党委", "产业链党委", "行业党委"),
        "CLUSTER": ("党群联组", "联组"),
        "ALLIANCE": ("党建联盟", "联盟"),
        "COMMITTEE": ("党委", "企业党委"),
        "GENERAL_BRANCH": ("党总支", "总支"),
        "BRANCH": ("党支部", "支部"),
        "JOINT_BRANCH": ("联合党支部", "联合党组织"),
    },
    FormationMode: {
        "STANDALONE": ("单独组建",),
        "JOINT": ("联合共建", "联合组建"),
        "MASS_ORGANIZATION": ("群团促建",),
        "BUSINESS_NEED": ("业务需求组建",),
        "BLOCKCHAIN_METHOD": ("区块链工作法", "“区块链”工作法"),
    },
    Category: {
        "NEWS": ("新闻",),
        "SOCIAL": ("社交",),
        "GAMES": ("网游", "游戏"),
        "ECOMMERCE": ("电商", "电子商务"),
        "FINANCE": ("金融",),
        "DATA": ("数据", "大数据"),
        "OTHER": ("其他", "其它"),
    },
    Status: {
        "ACTIVE": ("在营", "存续", "正常", "开业"),
        "ZOMBIE": ("僵尸", "僵尸企业"),
        "CLOSED": ("注销", "关闭", "吊销"),
    },
    LinkKind: {
        "CHAIN_CO_BUILD": ("产业链共建",),
        "ASSOCIATION_HELP": ("协会帮建",),
        "PARK_JOINT": ("园区联建",),
        "PAIRING": ("结对", "结对帮扶", "一对一帮扶"),
        "ALLIANCE": ("联盟成员",),
        "ALLIANCE_LEAD": ("盟主单位", "盟主"),
        "SUPPLY": ("上下游", "供应链"),
    },
}


def term(member: Enum) -> str | None:
    """The Chinese term for an enum member, if it has one.

    >>> term(Category.ECOMMERCE)
    '电商'
    """
    names = ENUM_NAMES.get(type(member), {}).get(member.name)
    return names[0] if names else None
