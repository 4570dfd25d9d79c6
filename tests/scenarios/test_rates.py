"""Rate cards and fees: hand-computed quotes, price() == quote() row by row, broken cards named."""
from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon_helpers import catalog
from recon_helpers.canonical import MEASURE_DTYPE, MEASURE_TYPE, MONEY_DTYPE
from recon_helpers.errors import TemplateError, UsageError
from recon_helpers.scenarios.courier_bill import pricing, rate_card

D = Decimal


@pytest.fixture(scope="module")
def sf():
    return rate_card.load_rate_card("sf")


def card_from(tmp_path: Path, **changes) -> Path:
    """A copy of the SF card with some top-level keys changed, written to tmp_path."""
    raw = yaml.safe_load((catalog.folder("rate_cards") / "sf.yaml").read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# --- the demo cards -------------------------------------------------------------------------


def test_four_demo_cards_each_price_all_31_provinces_explicitly():
    cards = {c.carrier: c for c in rate_card.list_rate_cards()}
    assert set(cards) == {"sf", "zto", "yto", "jdl"}
    for card in cards.values():
        listed = [rate_card.normalise_province(p) for z in card.zones for p in z.provinces]
        assert sorted(listed) == sorted(rate_card.PROVINCES), card.carrier
        assert 4 <= len(card.zones) <= 6
    assert cards["sf"].volumetric_divisor == 12000
    assert cards["zto"].volumetric_divisor is None and cards["zto"].surcharges.per_waybill == D("0.50")
    assert cards["yto"].volumetric_divisor == 8000
    assert cards["jdl"].volumetric_divisor == 8000 and cards["jdl"].surcharges.fuel_pct == D("3")


# --- hand-computed quotes (SF: 广东 = 12.00 first kg + 2.00 per kg; 0.5 kg steps to 10 kg, 1 kg above)


@pytest.mark.parametrize(
    "weight, chargeable, additional, total",
    [
        ("0.3", "0.5", "0.00", "12.00"),   # under the first weight: first fee only
        ("1", "1.0", "0.00", "12.00"),     # exactly the first weight
        ("1.01", "1.5", "2.00", "14.00"),  # just above: rounds to 1.5, one additional kg unit
        ("2.2", "2.5", "4.00", "16.00"),   # 1.5 kg over the first -> 2 units
        ("9.8", "10.0", "18.00", "30.00"),  # top of the 0.5 kg band
        ("10", "10.0", "18.00", "30.00"),  # boundary belongs to the 0.5 kg band
        ("10.01", "11.0", "20.00", "32.00"),  # above 10 kg: whole kg steps
    ],
)
def test_sf_quote_by_hand(sf, weight, chargeable, additional, total):
    q = pricing.quote(sf, weight=weight, destination="广东")
    assert q.zone == "省内"
    assert q.chargeable_weight == D(chargeable)
    assert q.first_fee == D("12.00")
    assert q.additional_fee == D(additional)
    assert q.surcharge == D("0.00")
    assert q.total == D(total)
    assert q.volume_weight is None


def test_volumetric_weight_wins_with_dimensions_rounded_up_to_whole_cm(sf):
    # 39.2 cm -> 40 cm; 40 x 30 x 20 = 24000 cm3 / 12000 = 2.0 kg > 0.5 kg actual
    q = pricing.quote(sf, weight="0.5", length_cm="39.2", width_cm=30, height_cm=20, destination="广东")
    assert q.volume_weight == D("2.000")
    assert q.chargeable_weight == D("2.0")
    assert q.total == D("14.00")  # 12.00 + 1 x 2.00


def test_actual_weight_wins_when_heavier_than_volumetric(sf):
    q = pricing.quote(sf, weight="3.2", length_cm=10, width_cm=10, height_cm=10, destination="广东")
    assert q.volume_weight == D("0.084")  # 1000 / 12000 = 0.0833.. rounded up to the gram
    assert q.chargeable_weight == D("3.5")
    assert q.total == D("18.00")  # 12.00 + 3 x 2.00


def test_zto_has_no_volumetric_charge_and_adds_the_waybill_fee():
    q = pricing.quote("zto", weight="2.3", length_cm=60, width_cm=60, height_cm=60, destination="浙江省")
    assert q.volume_weight is None
    assert q.chargeable_weight == D("3")
    assert (q.first_fee, q.additional_fee, q.surcharge, q.total) == (D("3.00"), D("2.00"), D("0.50"), D("5.50"))


def test_jdl_fuel_surcharge_is_three_percent_of_freight():
    # 广东 = 13.00 + 5.00/kg; 1.5 kg -> 1 unit; fuel 3% of 18.00 = 0.54
    q = pricing.quote("jdl", weight="1.5", destination="广东")
    assert (q.chargeable_weight, q.first_fee, q.additional_fee, q.fuel_fee, q.total) == (
        D("1.5"), D("13.00"), D("5.00"), D("0.54"), D("18.54"))


def test_fuel_surcharge_rounds_half_up_not_to_even(tmp_path):
    # 2.5% of 13.00 = 0.325 -> 0.33 (banker's rounding would give 0.32)
    card = rate_card.load_rate_card(card_from(tmp_path, surcharges={"fuel_pct": "2.5", "per_waybill": "0.00"},
                                          zones=[{"name": "全国", "provinces": ["广东"], "first_price": "13.00",
                                                  "additional_price": "2.00"}], default_zone="全国"))
    q = pricing.quote(card, weight="1", destination="广东")
    assert q.surcharge == D("0.33")
    assert q.total == D("13.33")


def test_insurance_rule_applies_percent_with_a_minimum(tmp_path):
    card = rate_card.load_rate_card(card_from(tmp_path, surcharges={
        "fuel_pct": "0", "per_waybill": "0.00", "insurance": {"pct": "0.5", "min_fee": "1.00"}}))
    assert pricing.quote(card, weight="1", destination="广东", declared_value="1000").insurance_fee == D("5.00")
    assert pricing.quote(card, weight="1", destination="广东", declared_value="50").insurance_fee == D("1.00")
    assert pricing.quote(card, weight="1", destination="广东").total == D("12.00")


def test_unknown_province_goes_to_the_default_zone(sf):
    q = pricing.quote(sf, weight="0.5", destination="香港")
    assert q.zone == "偏远" and q.total == D("25.00")
    assert "default zone" in pricing.explain(sf, q)


@pytest.mark.parametrize(
    "written, short",
    [("广东省", "广东"), ("北京市", "北京"), ("新疆维吾尔自治区", "新疆"), ("内蒙古自治区", "内蒙古"),
     ("广西壮族自治区", "广西"), ("宁夏回族自治区", "宁夏"), ("西藏自治区", "西藏"), ("黑龙江省", "黑龙江"),
     (" 广东省深圳市南山区 ", "广东"), ("陕西", "陕西"), ("山西省", "山西"), ("香港", "香港"), (None, "")],
)
def test_normalise_province(written, short):
    assert rate_card.normalise_province(written) == short


def test_full_province_names_price_like_short_ones(sf):
    assert pricing.quote(sf, weight="1", destination="新疆维吾尔自治区").zone == "偏远"
    assert pricing.quote(sf, weight="1", destination="内蒙古自治区").zone == "华北东北西北"
    assert pricing.quote(sf, weight="1", destination="广西壮族自治区").total == D("15.00")


def test_explain_reads_like_the_hand_calculation(sf):
    q = pricing.quote(sf, weight="1.5", destination="广东省")
    assert pricing.explain(sf, q) == (
        "广东 zone 省内: 1.5 kg -> 1.5 kg chargeable; 12.00 first + 1 x 2.00 additional + 0.00 surcharge = 14.00")


@pytest.mark.parametrize(
    "kwargs, phrase",
    [({"weight": None, "destination": "广东"}, "weight is missing"),
     ({"weight": "0", "destination": "广东"}, "must be > 0"),
     ({"weight": "1", "destination": ""}, "destination is missing"),
     ({"weight": "1", "length_cm": 10, "destination": "广东"}, "all three"),
     ({"weight": "1", "length_cm": 3000, "width_cm": 1, "height_cm": 1, "destination": "广东"}, "millimetres")],
)
def test_quote_refuses_what_it_cannot_price(sf, kwargs, phrase):
    with pytest.raises(UsageError, match=phrase):
        pricing.quote(sf, **kwargs)


# --- price() == quote() ---------------------------------------------------------------------

DESTINATIONS = list(rate_card.PROVINCES) + ["广东省", "新疆维吾尔自治区", "北京市", "香港", "广东省深圳市"]


def _measure(values: list[Decimal | None]) -> pd.Series:
    return pd.Series(pd.array(pa.array(values, type=MEASURE_TYPE), dtype=MEASURE_DTYPE))


def _random_rows(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        dims = [D(rnd.randint(1000, 90_000)).scaleb(-3) for _ in range(3)] if rnd.random() < 0.6 else [None] * 3
        rows.append({"weight": D(rnd.randint(1, 40_000)).scaleb(-3), "length_cm": dims[0], "width_cm": dims[1],
                     "height_cm": dims[2], "destination": rnd.choice(DESTINATIONS)})
    return rows


def _assert_price_equals_quote(rows: list[dict], card: rate_card.RateCard) -> None:
    table = pd.DataFrame({
        "weight": _measure([r["weight"] for r in rows]),
        "length_cm": _measure([r["length_cm"] for r in rows]),
        "width_cm": _measure([r["width_cm"] for r in rows]),
        "height_cm": _measure([r["height_cm"] for r in rows]),
        "destination": [r["destination"] for r in rows],
    })
    priced = pricing.price(table, card)
    assert len(priced) == len(rows)
    assert priced["expected_fee"].dtype == MONEY_DTYPE and priced["chargeable_weight"].dtype == MEASURE_DTYPE
    assert priced["pricing_problem"].isna().all()
    for i, row in enumerate(rows):
        q = pricing.quote(card, **row)
        got = priced.iloc[i]
        assert (got["zone"], got["chargeable_weight"], got["first_fee"], got["additional_fee"], got["surcharge"],
                got["expected_fee"]) == (q.zone, q.chargeable_weight, q.first_fee, q.additional_fee, q.surcharge,
                                         q.total), (row, q)
        assert (None if pd.isna(got["volume_weight"]) else got["volume_weight"]) == q.volume_weight


@pytest.mark.parametrize("name", ["sf", "zto", "yto", "jdl"])
def test_price_equals_quote_on_300_random_parcels(name):
    _assert_price_equals_quote(_random_rows(300, seed={"sf": 1, "zto": 2, "yto": 3, "jdl": 4}[name]), rate_card.load_rate_card(name))


row_strategy = st.fixed_dictionaries({
    "weight": st.integers(1, 60_000).map(lambda g: D(g).scaleb(-3)),
    "length_cm": st.none() | st.integers(100, 200_000).map(lambda m: D(m).scaleb(-3)),
    "width_cm": st.integers(100, 200_000).map(lambda m: D(m).scaleb(-3)),
    "height_cm": st.integers(100, 200_000).map(lambda m: D(m).scaleb(-3)),
    "destination": st.sampled_from(DESTINATIONS),
}).map(lambda r: r if r["length_cm"] is not None else {**r, "width_cm": None, "height_cm": None})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, min_size=1, max_size=30), name=st.sampled_from(["sf", "jdl", "yto"]))
def test_price_equals_quote_on_generated_parcels(rows, name):
    _assert_price_equals_quote(rows, rate_card.load_rate_card(name))


def test_price_reads_float_and_text_columns_like_decimals(sf):
    decimal_table = pd.DataFrame({"weight": _measure([D("1.2"), D("10.001"), D("0.3")]),
                                  "destination": ["广东", "北京市", "西藏"]})
    float_table = decimal_table.assign(weight=[1.2, 10.001, 0.3])
    text_table = decimal_table.assign(weight=["1.2", "10.001", "0.3"])
    expected = pricing.price(decimal_table, sf)["expected_fee"].tolist()
    assert expected == [D("14.00"), D("20.00") + D("10") * D("8.00"), D("25.00")]
    assert pricing.price(float_table, sf)["expected_fee"].tolist() == expected
    assert pricing.price(text_table, sf)["expected_fee"].tolist() == expected


def test_price_keeps_unpriceable_rows_with_a_reason(sf):
    table = pd.DataFrame({
        "w": ["1", None, "abc", "-1", "2", "1"],
        "length_cm": ["10", None, None, None, "10", None],
        "width_cm": ["10", None, None, None, None, None],
        "height_cm": ["10", None, None, None, None, None],
        "to": ["广东", "广东", "广东", "广东", "广东", None],
    }, index=[10, 11, 12, 13, 14, 15])
    priced = pricing.price(table, sf, weight="w", destination="to")
    assert list(priced.index) == [10, 11, 12, 13, 14, 15]
    assert priced["expected_fee"].isna().tolist() == [False, True, True, True, True, True]
    problems = priced["pricing_problem"].tolist()
    assert problems[0] is None or pd.isna(problems[0])
    assert "weight missing" in problems[1]
    assert "not a number" in problems[2]
    assert "> 0" in problems[3]
    assert "dimensions incomplete" in problems[4]
    assert "destination missing" in problems[5]
    assert priced.loc[10, "expected_fee"] == D("12.00")


def test_price_names_a_missing_column(sf):
    with pytest.raises(UsageError, match="'weight_kg'"):
        pricing.price(pd.DataFrame({"weight": [1], "destination": ["广东"]}), sf, weight="weight_kg")


# --- broken cards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field, phrase",
    [
        ({"first_weight_kg": "-1"}, "first_weight_kg", "greater than 0"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"carrier": "E M S"}, "carrier", "should match pattern"),
        ({"zones": [{"name": "全国", "provinces": ["广东"], "first_price": 12.5, "additional_price": "2.00"}],
          "default_zone": "全国"}, "zones[0].first_price", "quoted string"),
        ({"default_zone": "火星"}, None, "default_zone '火星'"),
        ({"zones": [{"name": "A", "provinces": ["广栋"], "first_price": "1.00", "additional_price": "1.00"}],
          "default_zone": "A"}, None, "'广栋' is not a mainland province"),
        ({"zones": [{"name": "A", "provinces": ["广东"], "first_price": "1.00", "additional_price": "1.00"},
                    {"name": "B", "provinces": ["广东省"], "first_price": "1.00", "additional_price": "1.00"}],
          "default_zone": "A"}, None, "in zone 'A' and again in 'B'"),
        ({"weight_rounding": [{"up_to_kg": "10", "step_kg": "0.5"}]}, None, "no up_to_kg"),
    ],
)
def test_broken_card_names_file_and_field(tmp_path, changes, field, phrase):
    path = card_from(tmp_path, **changes)
    with pytest.raises(TemplateError) as info:
        rate_card.load_rate_card(path)
    assert str(path) in str(info.value)
    assert phrase in str(info.value)
    assert info.value.field == field
    if field:
        assert f"field {field!r}" in str(info.value)


def test_unknown_card_name_lists_the_known_cards():
    with pytest.raises(TemplateError, match="known rate cards: jdl, sf, yto, zto"):
        rate_card.load_rate_card("ems")


def test_price_agrees_with_the_hand_computed_band_edges(sf):
    weights = ["0.3", "1", "1.01", "9.8", "10", "10.01"]
    table = pd.DataFrame({"weight": _measure([D(w) for w in weights]), "destination": ["广东"] * len(weights)})
    priced = pricing.price(table, sf)
    assert priced["chargeable_weight"].tolist() == [D(x) for x in ["0.5", "1", "1.5", "10", "10", "11"]]
    assert priced["expected_fee"].tolist() == [D(x) for x in ["12.00", "12.00", "14.00", "30.00", "30.00", "32.00"]]
