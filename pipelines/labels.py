"""Chinese words for what the audit's files and pages show people: dataset names, severities,
actions. One place, so the workbook, the evidence text and the review app say the same thing.
"""

from __future__ import annotations

import datetime as dt
import math

#: the datasets of the contract, by the names the departments and the office use
DATASET_LABELS = {
    "roll": "低保名册", "standards": "保障标准", "deaths": "死亡火化", "staff": "工作人员",
    "staff_relatives": "工作人员近亲属申报", "kin_filings": "近亲属备案",
    "vehicles": "车辆登记", "property": "不动产登记", "businesses": "工商登记",
    "public_employees": "财政供养人员", "pensions": "养老金领取", "low_income": "低收入人口",
    "decisions": "核查结论"}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
#: the actions of config/findings.yaml in plain Chinese (an action a place configures in its
#: own words is shown as written)
ACTION_LABELS = {
    "remove member, recalculate": "停发该成员，重新核定保障金",
    "remove the duplicate": "停发重复享受部分",
    "review: stop or recalculate": "核查后停保或重新核定",
    "review: stop": "核查后停保",
    "review: stop or reduce": "核查后停保或减发",
    "file (备案) and home visit": "补办备案并入户核查",
    "review the link": "核查关联关系",
    "review by another officer, home visit": "由其他工作人员复核并入户核查",
    "outreach, invite to apply": "主动走访，告知申请",
}
GROUP_LABELS = {"urban": "城市", "rural": "农村"}


def dataset_label(dataset: str | None) -> str:
    """A dataset's Chinese name ('' for none; an unknown name as it is)."""
    return DATASET_LABELS.get(dataset or "", dataset or "")


#: age bands of the disparity check (years at the audit date, inclusive)
AGE_BANDS = ((0, 17, "0-17岁"), (18, 59, "18-59岁"), (60, 79, "60-79岁"), (80, 200, "80岁以上"))
UNKNOWN = "未知"


def age_band(id_number: str | None, on: dt.date) -> str:
    """The age band of the holder of an 18-digit ID number on `on` (未知 without one)."""
    birth = birth_date(id_number)
    if birth is None:
        return UNKNOWN
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return next((name for low, high, name in AGE_BANDS if low <= age <= high), UNKNOWN)


def sex_of(id_number: str | None) -> str:
    """男/女 from an 18-digit ID number's 17th digit (未知 without one)."""
    if not id_number or len(id_number) != 18 or not id_number[16].isdigit():
        return UNKNOWN
    return "男" if int(id_number[16]) % 2 else "女"


def birth_date(id_number: str | None) -> dt.date | None:
    if not id_number or len(id_number) != 18:
        return None
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def age_band_sql(id_column: str, on: str) -> str:
    """The same bands in DuckDB SQL over an 18-digit ID column and a DATE expression."""
    birth = f"try_strptime(substr({id_column}, 7, 8), '%Y%m%d')::DATE"
    age = f"date_sub('year', {birth}, {on})"
    arms = " ".join(f"WHEN {age} BETWEEN {low} AND {high} THEN '{name}'"
                    for low, high, name in AGE_BANDS)
    return f"CASE {arms} ELSE '{UNKNOWN}' END"


def sex_sql(id_column: str) -> str:
    digit = f"try_cast(substr({id_column}, 17, 1) AS INTEGER)"
    return (f"CASE WHEN length({id_column}) <> 18 OR {digit} IS NULL THEN '{UNKNOWN}' "
            f"WHEN {digit} % 2 = 1 THEN '男' ELSE '女' END")


SCORE_NOTE = ("匹配分：两条记录属于同一人的估计把握（0 至 1），由身份证号、姓名、出生日期、住址等"
              "逐项比对得出；1 表示各项一致，显示时只舍不入（0.99995 显示为 0.9999）。"
              "匹配等级（确认/疑似/待核实）由它和比对依据定出；核查时以比对说明为准。")


def match_score(score: float | None) -> str:
    """A match score for people: four decimals, rounded down so that only a full match
    reads 1.0000 ('' for none)."""
    if score is None:
        return ""
    return f"{math.floor(float(score) * 10_000 + 1e-9) / 10_000:.4f}"


def priority_note(weights: dict[str, float], household: bool = False) -> str:
    """What the priority of a lead (or, `household`, of a household on the removal list: its
    highest lead's) means, with the severity weights (rules.yaml severity_weights)."""
    shown = "、".join(f"{SEVERITY_LABELS.get(k, k)}{v:g}" for k, v in weights.items())
    of = "，取该户各条线索中的最高值" if household else ""
    return f"优先级 = 严重程度权重（{shown}）× 涉及金额（元/月）× 匹配分{of}；数值越大越应先核查。"
