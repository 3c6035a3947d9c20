"""The written notice (告知书) served on a household before its allowance is stopped or reduced.

It says, in plain words, what was found about the household's own members (one sentence per
confirmed lead, written from the lead's code and its own evidence record: a death date, a
vehicle type, an employer), the intended action and the day it would take effect, and how and
by when to object. It never shows anyone else's personal data: not the evidence text (which can
name a staff member or another household), not the caseworker's notes, no ID numbers, no other
household, no staff name. An A4 PDF with the embedded CJK font, like the publicity lists.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.io.publicity_pdf import FAMILY, PdfFonts, cjk_document, quiet_font_tools

#: what was found, per code, about the member `{name}`; `{detail}` from the lead's own record
SENTENCES = {
    "DECEASED": "经与死亡、火化登记信息比对，家庭成员{name}已有死亡记录{detail}。",
    "DUPLICATE_RECEIPT": "家庭成员{name}同时在另一低保家庭中享受最低生活保障。",
    "PUBLIC_EMPLOYEE": "家庭成员{name}在财政供养单位领取工资{detail}。",
    "VEHICLE": "家庭成员{name}名下登记有机动车{detail}。",
    "PROPERTY": "家庭成员{name}名下登记有多套住房或非住宅房产。",
    "BUSINESS": "家庭成员{name}在企业担任法定代表人或股东{detail}。",
    "INCOME_OVER_STANDARD": "经核算，您家庭的月人均收入高于本地最低生活保障标准。",
    "STAFF_RELATIVE_UNFILED": "家庭成员{name}与从事低保工作的人员存在近亲属关系，但未按规定备案。",
    "STAFF_LINKED": "您家庭登记的联系电话或银行账户与工作人员的相同，需核实。",
    "APPROVER_CONFLICT": "您家庭的低保由与您家庭存在利害关系的工作人员经办，需重新审核。",
    "COMPLAINT": "经核查，群众反映的情况属实。",
}
#: the one field of the lead's own record a sentence may name, and how
DETAILS = {
    "DECEASED": ("death_date", "（死亡日期 {}）"),
    "PUBLIC_EMPLOYEE": ("employer", "（单位：{}）"),
    "VEHICLE": ("vehicle_type", "（{}）"),
    "BUSINESS": ("company", "（{}）"),
}
#: the intended action, per code, as a notice states it
ACTIONS = {
    "DECEASED": "停发该成员的保障金，重新核定家庭保障金额",
    "DUPLICATE_RECEIPT": "停发重复享受的保障金",
    "PUBLIC_EMPLOYEE": "停发或减发您家庭的最低生活保障金",
    "INCOME_OVER_STANDARD": "停发或减发您家庭的最低生活保障金",
    "VEHICLE": "停发您家庭的最低生活保障金",
    "PROPERTY": "停发您家庭的最低生活保障金",
    "BUSINESS": "停发您家庭的最低生活保障金",
}
DEFAULT_ACTION = "重新审核您家庭的保障资格，不符合条件的停发或减发最低生活保障金"


@dataclass(frozen=True)
class NoticeLead:
    code: str
    name: str
    record: dict[str, object]


@dataclass(frozen=True)
class Notice:
    household_id: str
    head_name: str
    address: str
    served_on: dt.date
    respond_by: dt.date
    effective_on: dt.date
    office: str
    phone: str
    leads: tuple[NoticeLead, ...]

    def found(self) -> list[str]:
        """One plain sentence per lead (the same sentence once)."""
        out: list[str] = []
        for lead in self.leads:
            field, shape = DETAILS.get(lead.code, ("", ""))
            value = str(lead.record.get(field) or "").strip() if field else ""
            sentence = SENTENCES.get(lead.code, "经核查，发现您家庭存在不符合保障条件的情况。")
            text = sentence.format(name=lead.name or "", detail=shape.format(value) if value else "")
            if text not in out:
                out.append(text)
        return out

    def actions(self) -> list[str]:
        out: list[str] = []
        for lead in self.leads:
            action = ACTIONS.get(lead.code, DEFAULT_ACTION)
            if action not in out:
                out.append(action)
        return out

    def paragraphs(self) -> list[str]:
        return [
            f"{self.head_name}（户编号{self.household_id}）：",
            "根据最低生活保障动态管理的规定，经与有关部门信息比对并入户核查，发现以下情况：",
            *(f"{n}. {s}" for n, s in enumerate(self.found(), start=1)),
            f"拟作出的处理：{'；'.join(self.actions())}。如无异议，将自"
            f"{_cn(self.effective_on)}起执行。",
            f"如您对上述情况有异议，请于{_cn(self.respond_by)}（含当日）前向{self.office}提出，"
            f"可以当面、书面或电话（{self.phone}）说明理由并提供证明材料。"
            "我们将重新核查并作出决定，在此之前不会停发或减发您家庭的保障金。",
            "本告知书不是最终处理决定。",
        ]


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def notice_leads(findings: Sequence[object]) -> tuple[NoticeLead, ...]:
    """The leads of a notice from review findings (their code, name and own evidence record)."""
    out = []
    for f in findings:
        try:
            record = json.loads(getattr(f, "evidence_record", None) or "{}")
        except ValueError:
            record = {}
        out.append(NoticeLead(str(getattr(f, "finding_code", "")), str(getattr(f, "name", "") or ""),
                              record if isinstance(record, dict) else {}))
    return tuple(sorted(out, key=lambda lead: (lead.code, lead.name)))


def render_notice(notice: Notice, font: str | None = None) -> bytes:
    """The notice as an A4 PDF."""
    title = "最低生活保障待遇调整告知书"
    body = notice.paragraphs()
    address = f"送达地址：{notice.address}" if notice.address else ""
    stamp = f"{notice.office}\n{_cn(notice.served_on)}"
    with PdfFonts.for_text(font, title + "".join(body) + stamp + address, title) as fonts:
        pdf = cjk_document(fonts, title, notice.served_on)
        pdf.set_margins(20, 20, 20)
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 18)
        pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font(FAMILY, size=11)
        for paragraph in body:
            pdf.multi_cell(0, 7, paragraph, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        if address:
            pdf.multi_cell(0, 7, address, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)
        pdf.multi_cell(0, 7, stamp, align="R", new_x="LMARGIN", new_y="NEXT")
        with quiet_font_tools():
            return bytes(pdf.output())
