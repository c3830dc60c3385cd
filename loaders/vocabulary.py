"""The words ledgers use: Chinese names of tables, columns and enum values.

English names are always accepted as well (the enum member names, case-insensitive).
"""

from __future__ import annotations

from graph.vocabulary import ENUM_NAMES

__all__ = ["COLUMN_NAMES", "ENUM_NAMES", "FALSE_WORDS", "TABLE_NAMES", "TRUE_WORDS", "normalise"]

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
        "has_committee": ("设支委会", "是否设支委会"),
        "dissolved_on": ("撤销日期",),
    },
    "coverage": {
        "org_id": ("组织编号", "党组织编号"),
        "credit_code": ("统一社会信用代码", "信用代码"),
        "since": ("起始日期", "覆盖日期"),
        "until": ("终止日期", "截止日期"),
    },
    "links": {
        "source_id": ("发起方编号", "源编号"),
        "target_id": ("对象编号", "目标编号"),
        "kind": ("类型", "共建类型"),
        "since": ("起始日期", "建立日期"),
        "until": ("终止日期", "截止日期"),
    },
    "instructors": {
        "id": ("指导员编号", "编号"),
        "name": ("姓名", "指导员姓名"),
        "credit_code": ("统一社会信用代码", "信用代码"),
        "since": ("指派日期", "起始日期"),
        "until": ("终止日期", "撤回日期"),
    },
    "departments": {
        "id": ("部门编号", "编号"),
        "name": ("部门名称", "名称"),
        "sector": ("对口行业", "主管行业"),
    },
}

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "√", "✓"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "×"})


def normalise(word: str) -> str:
    """Fold case, width of brackets and separators so header spellings compare equal."""
    folded = word.strip().casefold().replace("（", "(").replace("）", ")")
    return "".join(char for char in folded if char not in " \t_-\u3000")
