from pathlib import Path

import pytest

from govaudit.sites import SitesFileError, load_sites, parse_sites

HEADER = "site_id,name,unit_type,url,rubric\n"


def test_utf8_with_bom_and_gbk_decode_the_same(tmp_path: Path) -> None:
    text = HEADER + "qs-gov,青山县人民政府,county,http://127.0.0.11/,langfang-2020-county\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(text.encode("gbk"))
    a, b = load_sites(bom), load_sites(gbk)
    assert a == b
    assert a[0].name == "青山县人民政府" and a[0].unit_type == "county"


def test_chinese_unit_types_and_options() -> None:
    text = ("site_id,name,unit_type,url,rubric,category,render,has_website,hosts\n"
            "edu,青山县教育局,县直部门,https://edu.example.gov.cn/,changning-2020-department,a,always,否,"
            "www.example.gov.cn;xxgk.example.gov.cn\n")
    (site,) = parse_sites(text)
    assert site.unit_type == "department" and site.category == "A"
    assert site.options == {"render": "always", "has_website": False,
                            "hosts": ["www.example.gov.cn", "xxgk.example.gov.cn"]}


def test_every_bad_row_is_reported_with_its_line() -> None:
    text = (HEADER
            + "ok,好单位,county,http://127.0.0.11/,r\n"
            + "bad id!,名称,county,http://x/,r\n"
            + "two,名称,planet,ftp://x/,r\n"
            + "ok,重复,county,http://127.0.0.12/,r\n"
            + "short,row\n")
    with pytest.raises(SitesFileError) as err:
        parse_sites(text, "units.csv")
    problems = err.value.problems
    assert any(p.startswith("line 3:") and "site_id" in p for p in problems)
    assert any(p.startswith("line 4:") and "unit_type" in p for p in problems)
    assert any(p.startswith("line 4:") and "url" in p for p in problems)
    assert any(p.startswith("line 5:") and "repeats line 2" in p for p in problems)
    assert any(p.startswith("line 6:") and "fields" in p for p in problems)


def test_missing_header_column_and_empty_file() -> None:
    with pytest.raises(SitesFileError, match="line 1: header lacks column"):
        parse_sites("site_id,name,url\nx,y,http://a/\n")
    with pytest.raises(SitesFileError, match="empty"):
        parse_sites("")
