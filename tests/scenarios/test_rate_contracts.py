"""Rate cards that hold real contracts, on hand-worked cases: zones by origin, per-band additional prices,
minimum charge, remote areas, COD, packaging, volume discount tier edges, dated cards per service."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from recon_helpers.canonical import MEASURE_DTYPE, MEASURE_TYPE
from recon_helpers.errors import TemplateError, UsageError
from recon_helpers.scenarios.courier_bill import pricing, rate_card
from recon_helpers.scenarios.courier_bill.rate_book import RateBook, book_files, read_rate_book

D = Decimal

#: a two-warehouse contract: from 广东 (深圳仓) and from 浙江 (杭州仓), 标快
CONTRACT = {
    "carrier": "sf", "name": "顺丰标快 两仓合同", "service": "顺丰标快",
    "effective_from": "2026-10-01", "effective_to": "2026-10-14",
    "volumetric_divisor": 12000, "weight_rounding": [{"up_to_kg": "10", "step_kg": "0.5"}, {"step_kg": "1"}],
    "first_weight_kg": "1", "additional_unit_kg": "1",
    "zones": [
        {"name": "深圳省内", "origins": ["广东", "深圳仓"], "provinces": ["广东"], "first_price": "6.00",
         "additional_price": "2.00"},
        {"name": "深圳出省", "origins": ["广东", "深圳仓"], "provinces": ["浙江", "新疆"], "first_price": "12.00",
         "additional_price": "5.00",
         "additional_bands": [{"up_to_kg": "3", "price": "5.00"}, {"price": "4.00"}]},
        {"name": "杭州省内", "origins": ["浙江", "杭州仓"], "provinces": ["浙江"], "first_price": "5.00",
         "additional_price": "1.00"},
        {"name": "杭州出省", "origins": ["浙江", "杭州仓"], "provinces": ["广东", "新疆"], "first_price": "11.00",
         "additional_price": "4.00"},
        {"name": "其他", "provinces": ["北京"], "first_price": "20.00", "additional_price": "8.00"},
    ],
    "default_zone": "其他",
    "minimum_charge": "8.00",
    "remote_areas": {"fee": "10.00", "places": ["喀什", "阿里", "果洛"]},
    "cod": {"pct": "1", "min_fee": "2.00"},
    "return_fee": "6.00",
    "packaging_fee": "3.00",
    "volume_discounts": [{"from_parcels": 0, "pct": "0"}, {"from_parcels": 100, "pct": "5"}, {"from_parcels": 500, "pct": "10"}],
}


def write_card(tmp_path, name: str = "sf.yaml", **changes):
    raw = {**CONTRACT, **changes}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture()
def card(tmp_path):
    return rate_card.load_rate_card(write_card(tmp_path))


def test_zones_depend_on_the_warehouse_the_parcel_leaves(card):
    assert pricing.quote(card, weight="1", destination="广东", origin="深圳仓").zone == "深圳省内"
    assert pricing.quote(card, weight="1", destination="广东省", origin="杭州仓").zone == "杭州出省"
    assert pricing.quote(card, weight="1", destination="浙江", origin="浙江省").zone == "杭州省内"
    # a destination no zone lists for this origin goes to the default zone
    assert pricing.quote(card, weight="1", destination="北京", origin="深圳仓").zone == "其他"
    with pytest.raises(UsageError, match="origin is missing"):
        pricing.quote(card, weight="1", destination="广东")


def test_a_province_twice_for_the_same_origin_is_refused(tmp_path):
    zones = [dict(z) for z in CONTRACT["zones"]]
    zones[2] = {**zones[2], "origins": ["深圳仓"]}   # 杭州省内 now also from 深圳仓: 浙江 twice from there
    with pytest.raises(TemplateError, match="'浙江' is in zone '深圳出省' and again in '杭州省内' for the same origin"):
        rate_card.load_rate_card(write_card(tmp_path, zones=zones))


@pytest.mark.parametrize("weight, units, unit_price, freight", [
    ("3", 2, "5.00", "22.00"),      # 3 kg: still the first band (<= 3 kg) -> 12 + 2 x 5
    ("3.01", 3, "4.00", "24.00"),   # 3.5 kg chargeable: the heavier band prices every unit -> 12 + 3 x 4
    ("10.2", 10, "4.00", "52.00"),  # above 10 kg whole-kg rounding: 11 kg -> 10 units
])
def test_additional_units_are_priced_by_the_weight_band(card, weight, units, unit_price, freight):
    q = pricing.quote(card, weight=weight, destination="浙江", origin="深圳仓")
    assert (q.additional_units, q.unit_price, q.first_fee + q.additional_fee) == (units, D(unit_price), D(freight))


def test_minimum_charge_tops_the_freight_up(card):
    q = pricing.quote(card, weight="0.4", destination="浙江", origin="杭州仓")   # 5.00 first only
    assert (q.first_fee, q.minimum_topup, q.total) == (D("5.00"), D("3.00"), D("8.00"))
    assert "3.00 up to the minimum 8.00" in pricing.explain(card, q)


def test_remote_areas_by_city_or_county(card):
    far = pricing.quote(card, weight="1", destination="新疆维吾尔自治区喀什地区", origin="深圳仓")
    near = pricing.quote(card, weight="1", destination="新疆维吾尔自治区乌鲁木齐市", origin="深圳仓")
    by_city = pricing.quote(card, weight="1", destination="新疆", city="阿里地区", origin="深圳仓")
    assert (far.remote_fee, near.remote_fee, by_city.remote_fee) == (D("10.00"), D("0.00"), D("10.00"))
    assert far.total == D("22.00") and "remote area 10.00" in pricing.explain(card, far)


def test_cod_fee_is_a_percent_with_a_minimum_and_packaging_is_per_parcel(card):
    small = pricing.quote(card, weight="1", destination="广东", origin="深圳仓", cod_amount="100")
    big = pricing.quote(card, weight="1", destination="广东", origin="深圳仓", cod_amount="500", packaging="是")
    assert (small.cod_fee, small.packaging_fee, small.total) == (D("2.00"), D("0.00"), D("10.00"))  # 8.00 min + 2.00
    assert (big.cod_fee, big.packaging_fee, big.total) == (D("5.00"), D("3.00"), D("16.00"))


@pytest.mark.parametrize("parcels, pct, discount", [
    (None, "0", "0.00"), (99, "0", "0.00"), (100, "5", "1.10"), (499, "5", "1.10"), (500, "10", "2.20")])
def test_volume_discount_tier_edges(card, parcels, pct, discount):
    q = pricing.quote(card, weight="3", destination="浙江", origin="深圳仓", monthly_parcels=parcels)  # freight 22.00
    assert (q.discount_pct, q.discount) == (D(pct), D(discount))
    assert q.total == D("22.00") - D(discount)


def test_the_explanation_names_every_part(card):
    q = pricing.quote(card, weight="3", destination="新疆喀什", origin="深圳仓", cod_amount="300", packaging="1",
                      monthly_parcels=120)
    line = pricing.explain(card, q)
    assert line == ("深圳仓 -> 新疆 zone 深圳出省: 3.0 kg -> 3.0 kg chargeable; 12.00 first + 2 x 5.00 additional"
                    " - 1.10 volume discount 5% + 16.00 surcharge (COD 3.00, remote area 10.00, packaging 3.00) = 36.90")


def test_price_equals_quote_with_every_rule(card):
    rnd = random.Random(5)
    rows = [{"weight": D(rnd.randint(1, 25_000)).scaleb(-3), "destination": rnd.choice(["广东", "浙江省", "新疆喀什", "北京", "香港"]),
             "origin": rnd.choice(["深圳仓", "杭州仓"]), "cod_amount": rnd.choice([None, D("80.00"), D("999.99")]),
             "packaging": rnd.choice(["是", "", None])} for _ in range(200)]
    table = pd.DataFrame({
        "weight": pd.Series(pd.array(pa.array([r["weight"] for r in rows], type=MEASURE_TYPE), dtype=MEASURE_DTYPE)),
        **{c: [r[c] for r in rows] for c in ("destination", "origin", "cod_amount", "packaging")}})
    priced = pricing.price(table, card, cod_amount="cod_amount", packaging="packaging", monthly_parcels=600)
    assert priced["pricing_problem"].isna().all()
    for i, row in enumerate(rows):
        q = pricing.quote(card, **row, monthly_parcels=600)
        got = priced.iloc[i]
        assert (got["zone"], got["expected_fee"], got["discount"], got["remote_fee"], got["cod_fee"]) == (
            q.zone, q.total, q.discount, q.remote_fee, q.cod_fee), row


def test_price_names_a_missing_origin_for_a_card_by_origin(card):
    table = pd.DataFrame({"weight": ["1"], "destination": ["广东"]})
    priced = pricing.price(table, card)
    assert priced["expected_fee"].isna().all() and "origin missing" in priced["pricing_problem"].iloc[0]


# --- dated cards per service ------------------------------------------------------------------------
def test_a_price_change_on_the_15th_applies_from_that_day(tmp_path):
    zones_later = [{**z, "first_price": str(D(z["first_price"]) + 1) + "0" if "." not in z["first_price"] else
                    f"{D(z['first_price']) + 1:.2f}"} for z in CONTRACT["zones"]]
    first = write_card(tmp_path, "sf.yaml")
    later = write_card(tmp_path, "sf_2026-10-15.yaml", effective_from="2026-10-15", effective_to=None, zones=zones_later)
    express = write_card(tmp_path, "sf_express.yaml", service="顺丰特快", effective_from=None, effective_to=None)
    book = read_rate_book(book_files(tmp_path, "sf"))
    assert book.services == ["顺丰标快", "顺丰特快"]
    assert book.card_for(dt.date(2026, 10, 14), "顺丰标快").source_file.endswith(first.name)
    assert book.card_for(dt.date(2026, 10, 15), "标快").source_file.endswith(later.name)
    assert book.card_for(dt.date(2026, 10, 1), "顺丰特快").source_file.endswith(express.name)

    times = pd.Series(pd.to_datetime(["2026-10-14 23:59:59", "2026-10-15 00:00:00", "2026-10-20 10:00:00", "2026-09-30 12:00:00"]))
    table = pd.DataFrame({"weight": ["1"] * 4, "destination": ["广东"] * 4, "origin": ["深圳仓"] * 4,
                          "txn_time": times.astype("timestamp[s][pyarrow]"),
                          "service": ["顺丰标快", "顺丰标快", "顺丰特快", "顺丰标快"]})
    priced = book.price(table)
    # 6.00 first is below the 8.00 minimum either way; the later card's minimum is the same, its first 7.00
    assert list(priced["first_fee"].astype("string").fillna("-")) == ["6.00", "7.00", "6.00", "-"]
    assert "no sf rate card for service '顺丰标快' on 2026-09-30" in priced["pricing_problem"].iloc[3]


def test_overlapping_dates_for_one_service_are_refused(tmp_path):
    write_card(tmp_path, "sf.yaml")
    write_card(tmp_path, "sf_new.yaml", effective_from="2026-10-10", effective_to=None)
    with pytest.raises(TemplateError, match="rate cards for service '顺丰标快' overlap: .*sf.yaml .*sf_new.yaml"):
        read_rate_book(book_files(tmp_path, "sf"))


def test_a_card_that_ends_before_it_starts_is_refused(tmp_path):
    with pytest.raises(TemplateError, match="effective_to 2026-10-01 is before effective_from 2026-10-14"):
        rate_card.load_rate_card(write_card(tmp_path, effective_from="2026-10-14", effective_to="2026-10-01"))


def test_the_built_in_cards_form_books_of_one_card():
    for code in ("sf", "zto", "yto", "jdl"):
        book = RateBook.of([rate_card.load_rate_card(code)])
        assert book.card_for(dt.date(2026, 10, 15)).carrier == code
