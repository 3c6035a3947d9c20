"""Write the city's files as departments send them, and the truth files.

Formats: roll.csv GB18030 with Chinese headers; standards.csv UTF-8 English; deaths.csv and
property.csv UTF-8 with BOM; staff_relatives.csv GBK; kin_filings.csv, businesses.csv and
pensions.csv UTF-8; vehicles and public_employees Parquet; staff and low_income XLSX (openpyxl,
write-only). Every value is text. Output is byte-identical for the same seed: XLSX timestamps
are pinned.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# canonical column -> header as written (a name or alias from config/datasets.yaml)
HEADERS: dict[str, dict[str, str]] = {
    "roll": {"household_id": "户编号", "name": "姓名", "id_number": "身份证号码",
             "relation": "与户主关系", "district": "区", "street": "街道(乡镇)",
             "community": "社区(村)", "address": "家庭住址", "phone": "联系电话",
             "category": "保障类别", "household_size": "家庭人口",
             "monthly_amount": "月保障金额(元)", "start_date": "纳入时间",
             "approved_by": "经办人", "bank_account": "代发账号"},
    "standards": {"district": "district", "category": "category",
                  "monthly_standard": "monthly_standard"},
    "deaths": {"record_id": "记录编号", "name": "死者姓名", "id_number": "公民身份号码",
               "gender": "性别", "birth_date": "出生日期", "address": "户籍地址",
               "death_date": "死亡日期"},
    "staff": {"staff_id": "人员编号", "name": "姓名", "id_number": "身份证号", "role": "职务",
              "org": "单位", "district": "所属区", "street": "街道(乡镇)", "community": "社区(村)",
              "phone": "联系电话", "address": "住址", "bank_account": "银行账号"},
    "staff_relatives": {"record_id": "编号", "staff_id": "人员编号", "relative_name": "亲属姓名",
                        "relative_id_number": "亲属身份证号", "relation": "与本人关系"},
    "kin_filings": {"household_id": "household_id", "id_number": "id_number",
                    "staff_id": "staff_id", "filed_date": "filed_date"},
    "vehicles": {"record_id": "记录编号", "owner_name": "机动车所有人",
                 "owner_id_number": "身份证明号码", "plate": "号牌号码", "vehicle_type": "车辆类型",
                 "registered_date": "初次登记日期", "status": "机动车状态",
                 "owner_birth_date": "出生日期", "purchase_price": "购置价格(元)"},
    "property": {"record_id": "不动产单元号", "owner_name": "权利人",
                 "owner_id_number": "权利人证件号", "property_address": "坐落", "area": "建筑面积",
                 "usage": "用途", "owner_birth_date": "出生日期"},
    "businesses": {"record_id": "编号", "person_name": "姓名", "person_id_number": "证件号码",
                   "role": "角色", "company": "企业名称", "registered_capital": "注册资本(万元)",
                   "status": "登记状态", "established_date": "成立日期",
                   "subscribed_capital": "认缴出资额(万元)"},
    "public_employees": {"record_id": "record_id", "name": "name", "id_number": "id_number",
                         "employer": "employer", "monthly_pay": "monthly_pay"},
    "pensions": {"record_id": "record_id", "name": "name", "id_number": "id_number",
                 "benefit_type": "benefit_type", "monthly_amount": "monthly_amount"},
    "low_income": {"record_id": "编号", "name": "姓名", "id_number": "身份证号",
                   "household_id": "户编号", "district": "所属区", "street": "街道",
                   "community": "社区", "household_size": "家庭人数",
                   "per_capita_income": "月人均收入", "category": "城乡类别",
                   "group": "人群类别"},
}
# dataset -> (file name, format, encoding)
FORMATS: dict[str, tuple[str, str, str]] = {
    "roll": ("roll.csv", "csv", "gb18030"),
    "standards": ("standards.csv", "csv", "utf-8"),
    "deaths": ("deaths.csv", "csv", "utf-8-sig"),
    "staff": ("staff.xlsx", "xlsx", ""),
    "staff_relatives": ("staff_relatives.csv", "csv", "gbk"),
    "kin_filings": ("kin_filings.csv", "csv", "utf-8"),
    "vehicles": ("vehicles.parquet", "parquet", ""),
    "property": ("property.csv", "csv", "utf-8-sig"),
    "businesses": ("businesses.csv", "csv", "utf-8"),
    "public_employees": ("public_employees.parquet", "parquet", ""),
    "pensions": ("pensions.csv", "csv", "utf-8"),
    "low_income": ("low_income.xlsx", "xlsx", ""),
}
_PINNED = b"2026-01-01T00:00:00Z"


def write_dataset(out: Path, dataset: str, frame: pd.DataFrame) -> Path:
    """Write one dataset in its department's format; returns the file path."""
    name, kind, encoding = FORMATS[dataset]
    headers = HEADERS[dataset]
    frame = frame[list(headers)].rename(columns=headers).fillna("").astype(str)
    path = out / name
    if kind == "csv":
        frame.to_csv(path, index=False, encoding=encoding, lineterminator="\n")
    elif kind == "parquet":
        table = pa.table({c: pa.array(frame[c].to_numpy(dtype=object), pa.string())
                          for c in frame.columns})
        pq.write_table(table, path, compression="zstd")
    else:
        _write_xlsx(path, frame)
    return path


def _write_xlsx(path: Path, frame: pd.DataFrame) -> None:
    """A one-sheet workbook of text cells, with pinned timestamps for reproducible bytes."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([v if v != "" else None for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + _PINNED,
                              data)
            pinned = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            pinned.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(pinned, data)


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """A truth table as UTF-8 CSV."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
