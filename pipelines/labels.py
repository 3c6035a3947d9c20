"""Chinese words for what the audit's files and pages show people: dataset names, severities,
actions. One place, so the workbook, the evidence text and the review app say the same thing.
"""

from __future__ import annotations

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
