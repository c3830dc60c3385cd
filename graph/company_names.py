"""Chinese company names compared as the same company or not: the rule reconciliation matches by.

A name is folded (NFKC: full-width letters, digits and brackets to half-width; case;
spaces and dots dropped), then its legal form is taken off the end, longest first
(股份有限公司 before 有限公司, then 集团), and a leading province or city is taken off
when what remains is still a name of its own. A branch (分公司) keeps its whole name and
a bracketed place (（台州）) stays, since each is another enterprise.

>>> normalised_name("长沙市麓谷信息科技股份有限公司") == normalised_name("麓谷信息科技（集团）有限公司")
True
>>> normalised_name("湖南省麓谷信息科技有限公司")
'麓谷信息科技'
>>> normalised_name("麓谷信息科技有限公司长沙分公司")
'麓谷信息科技有限公司长沙分公司'
"""

from __future__ import annotations

import re

import polars as pl

LEGAL_FORMS = sorted(
    ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团", "公司", "(集团)", "总公司"), key=len, reverse=True
)
BRANCH = "分公司"
PLACES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
    "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "长沙", "株洲", "湘潭", "衡阳", "岳阳", "常德", "厦门", "福州",
    "泉州", "广州", "深圳", "杭州", "南京", "武汉", "成都", "西安", "台州", "宁波", "苏州", "郑州", "济南", "青岛",
)  # fmt: skip
PLACE_SUFFIXES = ("省", "市", "自治区", "特别行政区", "")
_LEADING_PLACES = sorted((p + s for p in PLACES for s in PLACE_SUFFIXES), key=len, reverse=True)
_LEGAL_FORM = "(?:" + "|".join(map(re.escape, LEGAL_FORMS)) + ")+$"  # longest first, as often as they come
_LEADING_PLACE = "^(?:" + "|".join(map(re.escape, _LEADING_PLACES)) + ")"  # longest first: 湖南省 before 湖南
_DROPPED = r"[\s·.,，。、\-_'\"“”]+"
SHORTEST = 2  # characters a name keeps after a place is taken off its front


def normalised_names(names: pl.Series) -> pl.Series:
    """The key of each name (the module docstring), the whole column at once."""
    folded = names.fill_null("").str.normalize("NFKC").str.to_lowercase().str.replace_all(_DROPPED, "")
    frame = pl.DataFrame({"key": folded}).lazy()
    key = pl.col("key")
    without_form = key.str.replace(_LEGAL_FORM, "")
    key = pl.when(key.str.ends_with(BRANCH) | (without_form == "")).then(key).otherwise(without_form)
    frame = frame.with_columns(key.alias("key"))
    rest = pl.col("key").str.replace(_LEADING_PLACE, "")
    placed = pl.col("key").str.contains(_LEADING_PLACE)
    keeps = (
        placed & (rest.str.len_chars() >= SHORTEST) & ~rest.is_in(_LEADING_PLACES)
        & ~rest.str.starts_with("(") & ~rest.str.starts_with(BRANCH)
    )  # fmt: skip
    frame = frame.with_columns(pl.when(keeps).then(rest).otherwise(pl.col("key")).alias("key"))
    return frame.collect()["key"].rename(names.name)


def normalised_name(name: str) -> str:
    """The key of one name (see `normalised_names`)."""
    return str(normalised_names(pl.Series([name]))[0])
