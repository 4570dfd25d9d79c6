"""Masking: each kind of personal value, the pattern scan, and the path scrubber of shared files."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recon_helpers import masking
from recon_helpers.report.sharing import Sharer


@pytest.mark.parametrize(("value", "masked"), [
    ("王明", "王*"), ("欧阳娜娜", "欧***"), ("杭州栖木家居用品有限公司", "杭州栖木家居用品有限公司"), ("招商银行", "招商银行"), ("", ""),
])
def test_names_keep_their_first_character_and_organisations_stay(value, masked):
    assert masking.rules().mask(value, "name") == masked


def test_each_kind_has_its_documented_form():
    assert masking.mask_mobile("13812341234") == "138****1234"
    assert masking.mask_mobile("+86 138-1234-1234") == "138****1234"
    assert masking.mask_id_card("11010519491231002X") == "110***********002X"
    assert masking.mask_account("6222 0212 3456 7890 123") == "****0123"
    assert masking.mask_account("33050161623500001245") == "****1245"
    assert masking.mask_address("江苏省苏州市新城区黄河路386号") == "江苏省苏州市***"
    assert masking.mask_address("上海市新城区文化路275号") == "上海市***"
    assert masking.mask_address("陕西省") == "陕西省", "a province alone is not beyond the city"


def test_the_scan_finds_numbers_in_free_text_but_leaves_order_and_waybill_numbers():
    text = "客户 13812341234 身份证 11010519491231002X 账号：6222021234567890123 订单 4107352009670040793 运单 SF1402318000546"
    scanned = masking.scan_text(text)
    assert "13812341234" not in scanned and "138****1234" in scanned
    assert "11010519491231002X" not in scanned and "002X" in scanned
    assert "6222021234567890123" not in scanned and "****0123" in scanned
    assert "4107352009670040793" in scanned and "SF1402318000546" in scanned
    assert masking.scan_text("110105194912310021") == "110105194912310021", "a wrong check digit is not an ID number"


def test_a_frame_is_masked_by_column_kind_and_numbers_stay():
    frame = pd.DataFrame({"收货人姓名": ["梁娜"], "联系手机": ["'18684981715"], "收货地址": ["上海市新城区文化路275号"],
                          "amount": [12.5], "key": ["4107352015127761918"]})
    out = masking.mask_frame(frame)
    assert out.iloc[0].to_dict() == {"收货人姓名": "梁*", "联系手机": "'186****1715", "收货地址": "上海市***",
                                     "amount": 12.5, "key": "4107352015127761918"}
    assert frame.iloc[0]["收货人姓名"] == "梁娜", "the caller's frame is not changed"


def _cells_the_scan_may_change(count: int) -> list[str]:
    """Random texts built from the pieces the scan rules turn on: digits (full-width too), separators,
    +86, account words in any case (the Turkish i's too), letters that glue a number to a word."""
    import random

    rng = random.Random(15)
    pieces = ["1", "3", "8", "0", "9", "2", "X", "x", "１", "３", "８", "-", " ", "+86", "86", "账号", "卡号：", "ACCOUNT no. ",
              "Acct#", "IBAN", "ıban ", "İBAN:", "SF", "a", "订单", "/", "(", "\u0660"]
    numbers = ["13812341234", "138-1234-1234", "110105194912310021", "11010519491231002X", "6222021234567890123"]
    cells = []
    for _ in range(count):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 6))]
        parts.insert(rng.randint(0, len(parts)), rng.choice(numbers) if rng.random() < 0.7 else "".join(rng.choices("0123456789", k=rng.randint(5, 20))))
        cells.append("".join(parts))
    return cells


def test_the_column_scan_changes_exactly_what_the_one_cell_scan_changes():
    cells = _cells_the_scan_may_change(4000) + ["4107352009670040793", "SF1402318000546", "", "138 1234 1234号"]
    frame = pd.DataFrame({"memo_like": cells, "as_text": pd.Series(cells, dtype="string")})
    out = masking.mask_frame(frame)
    expected = [masking.scan_text(c) for c in cells]
    assert out["memo_like"].tolist() == expected
    assert out["as_text"].tolist() == expected
    assert sum(e != c for e, c in zip(expected, cells)) > 1000, "the sample holds many cells the scan masks"


def test_a_personal_column_masks_each_value_and_leaves_other_cells_alone():
    frame = pd.DataFrame({"counterparty": ["梁娜", "梁娜", None, "顺丰速运有限公司", 7], "other": ["a", "b", "c", "d", "e"]})
    out = masking.mask_frame(frame)
    assert out["counterparty"].tolist() == ["梁*", "梁*", None, "顺丰速运有限公司", 7]
    assert out["other"].tolist() == ["a", "b", "c", "d", "e"]


def test_masking_is_on_unless_turned_off_explicitly(monkeypatch):
    monkeypatch.delenv(masking.MASKING_ENV, raising=False)
    assert masking.enabled()
    monkeypatch.setenv(masking.MASKING_ENV, "off")
    assert not masking.enabled()


def test_shared_text_names_files_relative_to_the_data_folder_and_no_other_absolute_path(tmp_path):
    data = tmp_path / "data"
    sharer = Sharer.for_run(data_dir=data, reports_dir=tmp_path / "reports", notebooks_dir=None, mask=True)
    text = (f"{data}/courier/sf_bill.xlsx row 3; output {tmp_path}/reports/2026-10; "
            "File /home/alice/.venv/lib/x.py, C:\\Users\\alice\\bill.xlsx; tel 13812341234")
    shared = sharer.text(text)
    assert shared.startswith("courier/sf_bill.xlsx row 3; output <reports>/2026-10")
    assert "/home/alice" not in shared and "C:\\Users" not in shared and "…/x.py" in shared and "bill.xlsx" in shared
    assert "138****1234" in shared
    assert str(Path.home()) not in sharer.text(f"{Path.home()}/notes.txt")


def test_script_blocks_keep_their_code_but_lose_known_folders(tmp_path):
    sharer = Sharer.for_run(data_dir=tmp_path, reports_dir=tmp_path / "r", notebooks_dir=None, mask=True)
    html = f"<p>{tmp_path}/a.csv 13812341234</p><script>var re=/usr/; x='{tmp_path}/b.csv'; n=13812341234;</script>"
    shared = sharer.html(html)
    assert shared == "<p>a.csv 138****1234</p><script>var re=/usr/; x='b.csv'; n=13812341234;</script>"
