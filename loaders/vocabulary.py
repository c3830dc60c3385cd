"""The words ledgers use: Chinese names of tables, columns and enum values.

English names are always accepted as well (the enum member names, case-insensitive).
"""

from __future__ import annotations

from graph.model import Category, FormationMode, LinkKind, OrgKind, Status

TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "enterprises": ("企业", "企业台账", "企业信息"),
    "organizations": ("党组织", "组织", "党组织台账"),
    "coverage": ("覆盖", "覆盖关系", "党组织覆盖"),
    "links": ("共建", "共建关系", "联建关系"),
    "instructors": ("党建指导员", "指导员"),
    "departments": ("部门", "结对部门"),
}

COLUMN_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "enterprises": {
        "credit_code": ("统一社会信用代码", "信用代码"),
        "name": ("企业名称", "名称"),
        "park": ("园区", "所在园区"),
        "building": ("楼宇", "所在楼宇", "载体"),
        "chain": ("产业链", "所属产业链"),
        "category": ("行业类别", "类别"),
        "employees": ("从业人数", "职工人数", "员工人数"),
        "formal_members": ("正式党员数", "正式党员"),
        "probationary_members": ("预备党员数", "预备党员"),
        "above_scale": ("规上企业", "是否规上"),
        "key": ("重点企业", "是否重点企业"),
        "status": ("经营状态", "状态"),
        "status_since": ("状态变更日期", "状态日期"),
        "registered_on": ("注册日期", "成立日期"),
        "cluster": ("党群联组", "行业归口", "所属联组"),
    },
    "organizations": {
        "id": ("组织编号", "编号"),
        "name": ("组织名称", "党组织名称", "名称"),
        "kind": ("组织类别", "党组织类别", "类别"),
        "parent_id": ("上级组织编号", "上级编号"),
        "mode": ("组建方式", "组建模式"),
        "established_on": ("成立日期", "组建日期"),
        "term_ends_on": ("届满日期", "换届日期", "任期届满日期"),
        "secretary": ("书记", "党组织书记"),
        "stars": ("星级",),
        "points": ("积分",),
    },
    "coverage": {
        "org_id": ("组织编号", "党组织编号"),
        "credit_code": ("统一社会信用代码", "信用代码"),
        "since": ("起始日期", "覆盖日期"),
    },
    "links": {
        "source_id": ("发起方编号", "源编号"),
        "target_id": ("对象编号", "目标编号"),
        "kind": ("类型", "共建类型"),
        "since": ("起始日期", "建立日期"),
    },
    "instructors": {
        "id": ("指导员编号", "编号"),
        "name": ("姓名", "指导员姓名"),
        "credit_code": ("统一社会信用代码", "信用代码"),
        "since": ("指派日期", "起始日期"),
    },
    "departments": {
        "id": ("部门编号", "编号"),
        "name": ("部门名称", "名称"),
    },
}

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
        "SUPPLY": ("上下游", "供应链"),
    },
}

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "√", "✓"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "×"})


def normalise(word: str) -> str:
    """Fold case, width of brackets and separators so header spellings compare equal."""
    folded = word.strip().casefold().replace("（", "(").replace("）", ")")
    return "".join(char for char in folded if char not in " \t_-\u3000")
