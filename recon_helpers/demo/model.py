"""The month's business events: orders, their lines and the parcels that shipped them.

Everything is generated with numpy from ``numpy.random.default_rng([seed, topic])`` (one stream per
topic, so a change in one generator does not shift the others), on integer units: seconds after the
first day 00:00, fen, grams, whole centimetres. Files are written from these tables by the other
modules; discrepancies are injected there and recorded in :mod:`.truth`.

Order kinds (column ``kind``), decided here because they shape every later file:

* ``normal`` - paid, shipped 0-2 days after payment, settled by the platform 1-3 days after shipping;
* ``closed`` - paid, refunded before shipping (交易关闭): never shipped, never settled;
* ``closed_shipped`` - closed on the platform but the warehouse shipped it anyway
  (truth: outbound / status_mismatch);
* ``unshipped`` - paid and open but never shipped (truth: outbound / missing_on_right).

A few normal orders ship some hours after the platforms' 48-hour promise (truth: outbound /
shipped_late).

Times are clipped to the month so that every normal order is shipped and settled inside it: the demo
has no month-end cut-off noise, so every difference a matcher finds is one that truth lists.
"""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recon_helpers.demo import vocab
from recon_helpers.periods import Period

DAY = 86_400
HOUR = 3_600


@dataclass
class Month:
    """Where and for which month we write, and the seeded random streams."""

    period: Period
    seed: int
    orders: int
    out_dir: Path
    written: list[str] = field(default_factory=list)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.period.year, self.period.month, 1)

    @property
    def days(self) -> int:
        return len(self.period.days())

    @property
    def end_s(self) -> int:
        """Seconds from the first day 00:00 to the end of the month."""
        return self.days * DAY

    @property
    def export_time(self) -> dt.datetime:
        """When the files were "downloaded": the 1st of the next month, 09:12:36 (never the clock)."""
        nxt = self.period.next().first_day
        return dt.datetime(nxt.year, nxt.month, nxt.day, 9, 12, 36)

    def rng(self, topic: str) -> np.random.Generator:
        """An independent, reproducible random stream for one topic."""
        return np.random.default_rng([self.seed, zlib.crc32(topic.encode("utf-8"))])

    def count(self, rows: int, rate: float = 0.01, minimum: int = 3) -> int:
        """How many discrepancies to inject among ``rows`` rows: ``rate`` of them, at least ``minimum``."""
        return int(max(minimum, round(rows * rate)))

    def path(self, rel: str) -> Path:
        """The output path of a demo file; records it in the list of files written."""
        self.written.append(rel)
        p = self.out_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def date_text(self, seconds: int, fmt: str = "%Y-%m-%d") -> str:
        return (self.start + dt.timedelta(seconds=int(seconds))).strftime(fmt)


# ---------------------------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------------------------


def increasing_ids(rng: np.random.Generator, n: int, base: int, low: int, high: int) -> np.ndarray:
    """``n`` strictly increasing integers after ``base`` with random gaps in [low, high)."""
    return base + np.cumsum(rng.integers(low, high, size=n, dtype=np.int64))


class WaybillBook:
    """Issues unique waybill numbers per carrier in each carrier's own format.

    Why a book: parcels, bill-only waybills and return waybills are drawn at different moments; one
    counter per carrier guarantees they never collide.
    """

    _FORMAT = {"sf": ("SF", 13, 1_402_318_000_000), "zto": ("78", 10, 3_318_000_000),
               "yto": ("YT", 13, 7_512_040_000_000), "jdl": ("JDVA", 11, 21_340_000_000)}

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._last = {c: self._FORMAT[c][2] for c in vocab.CARRIERS}

    def issue(self, carrier: str, n: int) -> np.ndarray:
        prefix, digits, _ = self._FORMAT[carrier]
        nums = increasing_ids(self._rng, n, self._last[carrier], 3, 400)
        if n:
            self._last[carrier] = int(nums[-1])
        return (prefix + pd.Series(nums).astype(str).str.zfill(digits)).to_numpy(dtype=object)

    def issue_mixed(self, carriers: np.ndarray) -> np.ndarray:
        """One waybill per row for the carrier named in that row (order of rows kept)."""
        out = np.empty(len(carriers), dtype=object)
        for c in vocab.CARRIERS:
            mask = carriers == c
            out[mask] = self.issue(c, int(mask.sum()))
        return out


# ---------------------------------------------------------------------------------------------
# people and places
# ---------------------------------------------------------------------------------------------


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array(list(vocab.SURNAMES), dtype=object)[rng.integers(0, len(vocab.SURNAMES), n)]
    given = np.array(vocab.GIVEN, dtype=object)[rng.integers(0, len(vocab.GIVEN), n)]
    return sur + given


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    heads = np.array(["138", "139", "137", "135", "150", "152", "158", "186", "187", "177", "199"], dtype=object)
    return heads[rng.integers(0, len(heads), n)] + pd.Series(rng.integers(0, 10**8, n)).astype(str).str.zfill(8).to_numpy(dtype=object)


def mask_phone(ph: np.ndarray) -> np.ndarray:
    s = pd.Series(ph, dtype=object).astype(str)
    return (s.str[:3] + "****" + s.str[-4:]).to_numpy(dtype=object)


def nicknames(rng: np.random.Generator, n: int) -> np.ndarray:
    pre = np.array(vocab.NICK_PREFIX, dtype=object)[rng.integers(0, len(vocab.NICK_PREFIX), n)]
    word = np.array(vocab.NICK_WORDS, dtype=object)[rng.integers(0, len(vocab.NICK_WORDS), n)]
    num = pd.Series(rng.integers(1, 9999, n)).astype(str).to_numpy(dtype=object)
    return pre + word + num


# ---------------------------------------------------------------------------------------------
# orders
# ---------------------------------------------------------------------------------------------


@dataclass
class Shop:
    """The month's orders (one row each), their lines, and the parcels shipped (one row each)."""

    orders: pd.DataFrame
    lines: pd.DataFrame
    parcels: pd.DataFrame
    waybills: WaybillBook


def _order_times(month: Month, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Creation, payment, shipment and settlement seconds; shipment/settlement clipped to the month."""
    end = month.end_s
    created = np.sort(rng.integers(0, end - 2 * HOUR, n))
    # evenings are busier: push a share of orders to 19:00-23:00 of their day
    evening = rng.random(n) < 0.35
    day_start = created // DAY * DAY
    created = np.where(evening, day_start + rng.integers(19 * HOUR, 23 * HOUR, n), created)
    created = np.sort(created)
    paid = created + rng.integers(5, 1_800, n)
    ship = np.minimum(paid + rng.integers(HOUR, 2 * DAY, n), end - 20 * 60)
    settle = np.minimum(np.maximum(ship + rng.integers(DAY, 3 * DAY, n), ship + 60), end - 5 * 60)
    return created, paid, ship, settle


def _order_numbers(rng: np.random.Generator, platform: np.ndarray, created: np.ndarray, month: Month) -> np.ndarray:
    """Platform-shaped order numbers, increasing with time within each platform."""
    out = np.empty(len(platform), dtype=object)
    for code in vocab.PLATFORMS:
        mask = platform == code
        k = int(mask.sum())
        if code == "taobao":
            nums = increasing_ids(rng, k, 4_107_352_000_000_000_000, 10**9, 10**10)
            out[mask] = pd.Series(nums).astype(str).to_numpy(dtype=object)
        elif code == "jd":
            nums = increasing_ids(rng, k, 312_405_000_000, 1_000, 90_000)
            out[mask] = pd.Series(nums).astype(str).to_numpy(dtype=object)
        elif code == "pdd":
            nums = increasing_ids(rng, k, 401_227_000_000_000, 10**6, 10**8)
            day = pd.Series(pd.Timestamp(month.start) + pd.to_timedelta(created[mask], unit="s")).dt.strftime("%y%m%d")
            out[mask] = (day + "-" + pd.Series(nums).astype(str)).to_numpy(dtype=object)
        else:
            nums = increasing_ids(rng, k, 6_917_926_000_000_000_000, 10**9, 10**10)
            out[mask] = pd.Series(nums).astype(str).to_numpy(dtype=object)
    return out


def build_orders(month: Month) -> Shop:
    """Draw the month's orders, lines and parcels, and decide each order's kind."""
    rng = month.rng("orders")
    n = month.orders
    platform = np.array(vocab.PLATFORMS, dtype=object)[rng.choice(4, size=n, p=vocab.PLATFORM_SHARE)]
    created, paid, ship, settle = _order_times(month, rng, n)
    order_no = _order_numbers(rng, platform, created, month)

    prov_w = np.array([p[4] for p in vocab.PROVINCES], dtype=float)
    prov = rng.choice(len(vocab.PROVINCES), size=n, p=prov_w / prov_w.sum())
    prov_short = np.array([p[0] for p in vocab.PROVINCES], dtype=object)[prov]
    prov_full = np.array([p[1] for p in vocab.PROVINCES], dtype=object)[prov]
    city = np.where(rng.random(n) < 0.7, np.array([p[2] for p in vocab.PROVINCES], dtype=object)[prov],
                    np.array([p[3] for p in vocab.PROVINCES], dtype=object)[prov])
    district = np.array(vocab.DISTRICTS, dtype=object)[rng.integers(0, len(vocab.DISTRICTS), n)]
    street = np.array(vocab.STREETS, dtype=object)[rng.integers(0, len(vocab.STREETS), n)]
    house = pd.Series(rng.integers(1, 399, n)).astype(str).to_numpy(dtype=object)
    address = prov_full + np.where(prov_full == city, "", city) + district + street + house + "号"

    # lines: Taobao and PDD orders carry one item line, JD and Douyin up to three
    multi = np.isin(platform, ["jd", "douyin"])
    n_lines = np.where(multi, rng.choice([1, 2, 3], size=n, p=[0.75, 0.2, 0.05]), 1)
    order_idx = np.repeat(np.arange(n), n_lines)
    line_no = np.arange(len(order_idx)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    pw = np.array(vocab.PRODUCT_WEIGHTS, dtype=float)
    first_sku = rng.choice(len(vocab.PRODUCTS), size=n, p=pw / pw.sum())
    sku_idx = (first_sku[order_idx] + (line_no - 1) * 7) % len(vocab.PRODUCTS)
    qty = rng.choice([1, 2, 3], size=len(order_idx), p=[0.82, 0.14, 0.04])
    unit_fen = np.array([p[3] for p in vocab.PRODUCTS], dtype=np.int64)[sku_idx]
    amount_fen = unit_fen * qty
    lines = pd.DataFrame({"order_idx": order_idx, "line_no": line_no, "sku_idx": sku_idx, "qty": qty,
                          "unit_fen": unit_fen, "amount_fen": amount_fen})
    goods_fen = np.bincount(order_idx, weights=amount_fen, minlength=n).astype(np.int64)
    qty_total = np.bincount(order_idx, weights=qty, minlength=n).astype(np.int64)

    remote = np.isin(prov_short, ["新疆", "西藏", "青海"])
    postage_fen = np.where(remote, 1000, 0).astype(np.int64)
    coupon = np.array([300, 500, 1000, 2000], dtype=np.int64)[rng.integers(0, 4, n)]
    discount_fen = np.where(rng.random(n) < 0.25, np.minimum(coupon, goods_fen // 400 * 100), 0).astype(np.int64)
    has_pf = np.isin(platform, ["pdd", "douyin"]) & (rng.random(n) < 0.15)
    platform_disc_fen = np.where(has_pf, np.minimum(np.array([200, 300, 500], dtype=np.int64)[rng.integers(0, 3, n)],
                                                    goods_fen // 400 * 100), 0).astype(np.int64)
    paid_fen = goods_fen + postage_fen - discount_fen  # what the merchant is owed for the order

    # sub-order numbers: Douyin single-line orders reuse the main number, as the real export does
    is_douyin = platform[order_idx] == "douyin"
    main = order_no[order_idx]
    single = n_lines[order_idx] == 1
    dy_sub = pd.Series(main).where(~is_douyin | single, None)
    bumped = (pd.Series(main[is_douyin & ~single]).astype("int64") + line_no[is_douyin & ~single]).astype(str)
    dy_sub[is_douyin & ~single] = bumped.to_numpy()
    lines["sub_order_no"] = dy_sub.where(is_douyin, pd.Series(main) + "-" + pd.Series(line_no).astype(str)).to_numpy(dtype=object)

    carrier = _carriers(rng, platform)
    orders = pd.DataFrame({
        "platform": platform, "order_no": order_no, "created_s": created, "paid_s": paid, "ship_s": ship,
        "settle_s": settle, "prov_short": prov_short, "prov_full": prov_full, "city": city, "address": address,
        "buyer": person_names(rng, n), "nick": nicknames(rng, n), "phone": phones(rng, n),
        "carrier": carrier, "warehouse": np.array([vocab.CARRIER_WAREHOUSE[c] for c in carrier], dtype=object),
        "n_lines": n_lines, "qty_total": qty_total, "goods_fen": goods_fen, "postage_fen": postage_fen,
        "discount_fen": discount_fen, "platform_disc_fen": platform_disc_fen, "paid_fen": paid_fen,
        "close_reason": "",
    })
    first = (lines["line_no"] == 1).to_numpy()
    oi = lines["order_idx"].to_numpy()
    lines["disc_fen"] = np.where(first, discount_fen[oi], 0)
    lines["pdisc_fen"] = np.where(first, platform_disc_fen[oi], 0)
    lines["postage_fen"] = np.where(first, postage_fen[oi], 0)
    # what the merchant is owed for the line (sums to paid_fen over the order)
    lines["income_fen"] = lines["amount_fen"] - lines["disc_fen"] + lines["postage_fen"]
    _parcel_measures(rng, orders, lines)
    _decide_kinds(month, orders)
    _delay_some_shipments(month, orders)
    book = WaybillBook(month.rng("waybills"))
    shipped = orders["kind"].isin(["normal", "closed_shipped"]).to_numpy()
    orders["waybill"] = ""
    orders.loc[shipped, "waybill"] = book.issue_mixed(orders.loc[shipped, "carrier"].to_numpy())
    orders.loc[~shipped, "ship_s"] = -1
    orders.loc[orders["kind"] != "normal", "settle_s"] = -1
    parcels = _parcels(month, orders, book)
    return Shop(orders=orders, lines=lines, parcels=parcels, waybills=book)


def _carriers(rng: np.random.Generator, platform: np.ndarray) -> np.ndarray:
    """JD orders mostly go with JD Logistics; the others split between SF, ZTO and YTO."""
    n = len(platform)
    general = np.array(vocab.CARRIERS, dtype=object)[rng.choice(4, size=n, p=[0.25, 0.35, 0.3, 0.1])]
    jd_pick = np.where(rng.random(n) < 0.7, "jdl", general)
    return np.where(platform == "jd", jd_pick, general).astype(object)


def _parcel_measures(rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame) -> None:
    """Weight (grams, multiple of 10) and box size (whole cm) of the parcel each order ships in."""
    n = len(orders)
    prod = vocab.PRODUCTS
    w = np.array([p[4] for p in prod], dtype=np.int64)[lines["sku_idx"]] * lines["qty"].to_numpy()
    grams = np.bincount(lines["order_idx"], weights=w, minlength=n) + 80
    grams = np.ceil(grams * rng.uniform(0.97, 1.05, n) / 10).astype(np.int64) * 10
    first_line = lines.groupby("order_idx", sort=True)["sku_idx"].first().to_numpy()
    dims = np.array([[p[5], p[6], p[7]] for p in prod], dtype=np.int64)[first_line]
    extra = np.clip(orders["qty_total"].to_numpy() - 1, 0, 4)
    orders["weight_g"] = grams
    orders["length_cm"] = dims[:, 0]
    orders["width_cm"] = dims[:, 1]
    orders["height_cm"] = dims[:, 2] + (dims[:, 2] * 6 // 10) * extra


def _decide_kinds(month: Month, orders: pd.DataFrame) -> None:
    """Mark closed orders and the injected outbound problems (closed but shipped; never shipped)."""
    rng = month.rng("order-kinds")
    n = len(orders)
    k = month.count(n, 0.005)
    n_closed = max(2 * k, int(round(n * 0.015)))
    # keep the last two days out of the picks, so "never shipped" is clearly overdue
    eligible = np.flatnonzero(orders["paid_s"].to_numpy() < month.end_s - 2 * DAY)
    picks = rng.choice(eligible, size=min(len(eligible), n_closed + k), replace=False)
    picks = np.sort(picks)
    order = rng.permutation(len(picks))
    closed = picks[order[:n_closed]]
    unshipped = picks[order[n_closed:n_closed + k]]
    kind = np.full(n, "normal", dtype=object)
    kind[closed] = "closed"
    kind[np.sort(closed)[rng.permutation(len(closed))[:k]]] = "closed_shipped"
    kind[unshipped] = "unshipped"
    orders["kind"] = kind
    reasons = np.array(vocab.CLOSE_REASONS, dtype=object)[rng.integers(0, len(vocab.CLOSE_REASONS), n)]
    is_closed = np.isin(kind, ["closed", "closed_shipped"])
    orders.loc[is_closed, "close_reason"] = reasons[is_closed]


def _delay_some_shipments(month: Month, orders: pd.DataFrame) -> None:
    """A few normal orders leave the warehouse some hours after the platforms' 48-hour promise
    (truth: outbound / shipped_late, recorded by :mod:`.logistics`); their settlement follows."""
    rng = month.rng("late-shipments")
    normal = np.flatnonzero((orders["kind"].to_numpy() == "normal") & (orders["paid_s"].to_numpy() < month.end_s - 6 * DAY))
    picks = np.sort(rng.choice(normal, size=min(month.count(len(orders), 0.005), len(normal)), replace=False))
    ship = orders.loc[picks, "paid_s"].to_numpy() + 2 * DAY + rng.integers(3 * HOUR, 20 * HOUR, len(picks))
    orders.loc[picks, "ship_s"] = ship
    orders.loc[picks, "settle_s"] = ship + rng.integers(DAY, 3 * DAY, len(picks))


def _parcels(month: Month, orders: pd.DataFrame, book: WaybillBook) -> pd.DataFrame:
    """One parcel per shipped order, plus re-shipments (补发) that have no platform order.

    The re-shipments are the injected outbound ``missing_on_left`` rows: the warehouse shipped them
    against an internal 补发 number, which no platform order list contains.
    """
    shipped = orders[orders["kind"].isin(["normal", "closed_shipped"])]
    parcels = pd.DataFrame({
        "waybill": shipped["waybill"].to_numpy(), "carrier": shipped["carrier"].to_numpy(),
        "order_no": shipped["order_no"].to_numpy(), "platform": shipped["platform"].to_numpy(),
        "ship_s": shipped["ship_s"].to_numpy(), "prov_full": shipped["prov_full"].to_numpy(),
        "weight_g": shipped["weight_g"].to_numpy(), "length_cm": shipped["length_cm"].to_numpy(),
        "width_cm": shipped["width_cm"].to_numpy(), "height_cm": shipped["height_cm"].to_numpy(),
        "warehouse": shipped["warehouse"].to_numpy(), "order_idx": shipped.index.to_numpy(),
        "reship": False,
    })
    rng = month.rng("reships")
    k = month.count(len(orders), 0.005)
    src = orders.iloc[np.sort(rng.choice(np.flatnonzero(orders["kind"] == "normal"), size=k, replace=False))]
    ship_s = np.minimum(src["ship_s"].to_numpy() + rng.integers(2 * DAY, 5 * DAY, k), month.end_s - HOUR)
    carriers = src["carrier"].to_numpy()
    day = [month.date_text(s, "%y%m%d") for s in ship_s]
    reship = pd.DataFrame({
        "waybill": book.issue_mixed(carriers), "carrier": carriers,
        "order_no": [f"BF{d}{i + 1:04d}" for i, d in enumerate(day)], "platform": src["platform"].to_numpy(),
        "ship_s": ship_s, "prov_full": src["prov_full"].to_numpy(), "weight_g": src["weight_g"].to_numpy(),
        "length_cm": src["length_cm"].to_numpy(), "width_cm": src["width_cm"].to_numpy(),
        "height_cm": src["height_cm"].to_numpy(), "warehouse": src["warehouse"].to_numpy(),
        "order_idx": src.index.to_numpy(), "reship": True,
    })
    out = pd.concat([parcels, reship], ignore_index=True)
    out["pieces"] = _multi_piece(month, out, orders)
    return out.sort_values(["ship_s", "waybill"], kind="stable").reset_index(drop=True)


def _multi_piece(month: Month, parcels: pd.DataFrame, orders: pd.DataFrame) -> np.ndarray:
    """Pieces per waybill: 1, except a few SF orders of several items sent as one multi-piece consignment
    (子母件, 2 pieces under one waybill), which our ERP, the WMS and SF's bill all count as 2. Its own
    random stream, so every other draw of the month stays as it was."""
    pieces = np.ones(len(parcels), dtype=np.int64)
    qty = orders["qty_total"].to_numpy()[parcels["order_idx"].to_numpy()]
    eligible = np.flatnonzero((parcels["carrier"].to_numpy() == "sf") & ~parcels["reship"].to_numpy() & (qty >= 2))
    rng = month.rng("multi-piece")
    k = min(max(3, month.count(len(parcels), 0.002)), len(eligible))
    pieces[rng.choice(eligible, size=k, replace=False)] = 2
    return pieces
