"""District and street codes from the names and codes written in registers."""

from __future__ import annotations

import pytest

from pipelines.ingest.divisions import (
    city_districts,
    district_code,
    district_codes,
    district_name,
    is_known_region,
    street_code,
)


@pytest.mark.parametrize(("value", "city", "code"), [
    ("江岸区", "4201", "420102"),              # full name
    ("江岸", "4201", "420102"),                # without 区
    (" 江岸区 ", "4201", "420102"),            # surrounding spaces
    ("江 岸 区", "4201", "420102"),            # spaces inside
    ("武汉市江岸区", "4201", "420102"),        # with the city
    ("湖北省武汉市江岸区", "4201", "420102"),  # with province and city
    ("武汉江岸", "4201", "420102"),            # short city, short district
    ("江岸区大智街道", "4201", "420102"),      # district followed by the street
    ("东西湖区", "4201", "420112"),            # three-character name
    ("东西湖", "4201", "420112"),              # ... without 区
    ("420102", "4201", "420102"),              # code
    ("４２０１０２", "4201", "420102"),        # full-width code
    ("420102002", "4201", "420102"),           # street code: its district
    ("420102000000", "4201", "420102"),        # 12-digit statistics code
    ("110101", "4201", "110101"),              # another city's code, valid in areas.csv
    ("429999", "4201", None),                  # code that does not exist
    ("北京市东城区", "4201", None),            # another city's name: not looked up
    ("东城区", "1101", "110101"),              # ... but found within that city
    ("武汉市", "4201", None),                  # the city alone is not a district
    ("汉口", "4201", None),                    # colloquial area, not a district
    ("", "4201", None),                        # empty
    (None, "4201", None),                      # missing
])
def test_district_code(value: str | None, city: str, code: str | None) -> None:
    assert district_code(value, city) == code


def test_district_code_defaults_to_wuhan() -> None:
    # The generator's city is the default.
    assert district_code("洪山区") == "420111"


def test_district_codes_aligned() -> None:
    # Repeats and None keep their positions.
    values = ["江岸区", None, "洪山", "江岸区", "nowhere"]
    assert district_codes(values, "4201").tolist() == ["420102", None, "420111", "420102", None]


def test_district_name_and_city_districts() -> None:
    # Names by code, and Wuhan's 13 districts in code order.
    assert district_name("420111") == "洪山区"
    assert district_name("429999") is None and district_name(None) is None
    districts = city_districts("4201")
    assert len(districts) == 13
    assert list(districts) == sorted(districts)
    assert districts["420102"] == "江岸区"


@pytest.mark.parametrize(("district", "street", "code"), [
    ("420102", "大智街道", "420102002"),                  # exact
    ("420102", "大智", "420102002"),                      # without 街道
    ("420102", "大智街", "420102002"),                    # 街 for 街道
    ("420102", "大智街道办事处", "420102002"),            # the office's full title
    ("420103", "民族街街道", "420103001"),                # name ending in 街 plus 街道
    ("420103", "民族街", "420103001"),                    # ... written without 街道
    ("420104", "汉正街", "420104009"),                    # 汉正街道 written as the street's name
    ("420112", "柏泉街道", "420112002"),                  # 柏泉办事处街道 in the list
    ("420106", "东湖风景区街道（武昌）", "420106490"),    # full-width brackets
    ("420106", "东湖风景区街道", "420106490"),            # without the bracket
    ("420117", "凤凰", "420117102"),                      # township (镇) without suffix
    ("420102", "民族街", None),                           # street of another district
    ("420102", "不存在街道", None),                       # unknown
    ("110101", "大智街道", None),                         # district outside Wuhan
    ("420102", None, None),                               # missing
])
def test_street_code(district: str, street: str | None, code: str | None) -> None:
    assert street_code(district, street) == code


@pytest.mark.parametrize(("code", "known"), [
    ("420102", True),     # current district
    ("420101", False),    # Wuhan 市辖区: used in old IDs, not a county-level division
    ("110101", True),     # other province
    ("", False),          # empty
])
def test_is_known_region(code: str, known: bool) -> None:
    assert is_known_region(code) is known
