"""Seeded generators for the big matching workloads, with the truth kept beside them.

Three workloads (the third at three levels of ambiguity), each a pair of canonical tables written as parquet (money as decimal128(18, 2), times as
timestamp[s], ids as strings, plus source_file / source_row / template as the loader yields them):

* ``courier``: own shipments (left, ``chargeable_weight`` and ``expected_fee`` already priced) against courier-bill lines
  (right, ``amount``). About 5% injected discrepancies: shipments never billed (missing_on_right),
  bill lines for unknown waybills (missing_on_left), the same waybill charged twice
  (duplicate_on_right) and fees that differ from the expected fee (rate_card_violation). A further 2%
  of bill lines write the waybill in lower case with padding: not a discrepancy, the normalised-key
  rule must link them.
* ``ambiguity1`` / ``ambiguity10`` / ``ambiguity30``: store settlement lines against bank credits
  (batches, and one keyless credit per line) where 1%, 10% or 30% of the keyless lines share their
  amount with others inside the window (see :func:`ambiguity`).
* ``collections``: platform settlement lines (left) against bank credits (right). 80% of lines are
  paid in batches that carry a ``batch_id`` (one credit per batch, next day), 10% are paid once a day
  per channel without a batch id, 10% are paid one credit per line (no shared key: amount and date
  only, credit 0-2 days later). About 5% of payouts are wrong: batch credits off by a few yuan or
  missing, single credits missing, off by an amount, or credits nobody can explain.

Amounts are built so that the truth is the only sensible answer (otherwise "no false link" could not
be measured): batch and daily lines are multiples of 0.40, single lines are 0.07 above a multiple of
0.40 and credits that must stay unexplained 0.27 above one, so no subset of up to five lines can make
up a credit that is not its own; batch sums exceed what five lines can reach. Real data is less kind;
the unit tests cover the ambiguous cases.

Truth files (``truth_left.parquet``, ``truth_right.parquet``: source_row, true_group, event_id;
``events.parquet``: event_id, category, need_left, need_right = rows per side that must show up as
exceptions; ``groups.parquet``: true_group, exp_left, exp_right = the rows per side a correct link of
that group holds, 0/0 when the group must not be linked at all).

Run ``python benchmarks/workloads.py --rows 20000`` to write them all into ``benchmarks/data/``.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).resolve().parent / "data"
MONEY = pa.decimal128(18, 2)
MEASURE = pa.decimal128(12, 3)
MONTH_START = np.datetime64("2026-10-01T00:00:00", "s")
DAY = 86_400
PROVINCES = np.array(["广东省", "浙江省", "江苏省", "上海市", "北京市", "四川省", "湖北省", "山东省", "河南省", "福建省"])
CARRIERS = np.array(["顺丰速运", "中通快递", "圆通速递", "京东物流"])
CARRIER_PREFIX = np.array(["SF", "7", "YT", "JDX"])
CARRIER_WIDTH = np.array([13, 13, 13, 12])


# --- arrow builders -------------------------------------------------------------------------------


def money_array(fen: np.ndarray) -> pa.Array:
    """decimal128(18, 2) from integer fen, built from the unscaled 128-bit values: exact and fast."""
    fen = np.asarray(fen, dtype=np.int64)
    words = np.empty((fen.size, 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = np.where(fen < 0, -1, 0)
    return pa.Array.from_buffers(MONEY, fen.size, [None, pa.py_buffer(words)])


def measure_array(milli: np.ndarray) -> pa.Array:
    """decimal128(12, 3) from integer thousandths (grams for kg)."""
    milli = np.asarray(milli, dtype=np.int64)
    words = np.empty((milli.size, 2), dtype=np.int64)
    words[:, 0] = milli
    words[:, 1] = np.where(milli < 0, -1, 0)
    return pa.Array.from_buffers(MEASURE, milli.size, [None, pa.py_buffer(words)])


def id_array(prefix, numbers: np.ndarray, width: int) -> pa.Array:
    """Strings prefix + zero-padded number; ``prefix`` is a str or one per row."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix if isinstance(prefix, str) else pa.array(prefix), digits, "")


def time_array(seconds: np.ndarray) -> pa.Array:
    return pa.array(MONTH_START + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]"), pa.timestamp("s"))


def provenance(table: dict, file_name: str, template: str) -> dict:
    """Add source_file / source_row (row 1 is the header line) / template, as the loader would."""
    n = len(next(iter(table.values())))
    table["source_file"] = pa.array(np.full(n, file_name, dtype=object), pa.string())
    table["source_row"] = pa.array(np.arange(2, n + 2, dtype=np.int64))
    table["template"] = pa.array(np.full(n, template, dtype=object), pa.string())
    return table


@dataclass
class Truth:
    """Per-row truth of one side plus the events and expected link groups of the workload."""

    left_group: np.ndarray
    left_event: np.ndarray
    right_group: np.ndarray
    right_event: np.ndarray
    events: dict[str, np.ndarray]
    groups: dict[str, np.ndarray]


def write_workload(out: Path, left: dict, right: dict, truth: Truth, meta: dict) -> None:
    """Write left/right tables, the truth tables and a small JSON description."""
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(left), out / "left.parquet")
    pq.write_table(pa.table(right), out / "right.parquet")
    for side, group, event, table in (("left", truth.left_group, truth.left_event, left),
                                      ("right", truth.right_group, truth.right_event, right)):
        pq.write_table(pa.table({"source_row": table["source_row"], "true_group": pa.array(group),
                                 "event_id": pa.array(event)}), out / f"truth_{side}.parquet")
    pq.write_table(pa.table({k: pa.array(v) for k, v in truth.events.items()}), out / "events.parquet")
    pq.write_table(pa.table({k: pa.array(v) for k, v in truth.groups.items()}), out / "groups.parquet")
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def _permute(table: dict, order: np.ndarray) -> dict:
    return {name: col.take(pa.array(order)) for name, col in table.items()}


# --- courier --------------------------------------------------------------------------------------


def courier(rows: int, *, seed: int = 5, out: Path | None = None) -> Path:
    """Shipments vs courier-bill lines; see the module docstring for what is injected."""
    rng = np.random.default_rng(seed)
    n = rows
    n_missing_right = int(n * 0.015)
    n_fee = int(n * 0.015)
    n_dup = int(n * 0.01)
    n_missing_left = int(n * 0.01)
    n_noise = int(n * 0.02)

    carrier = rng.integers(0, 4, n + n_missing_left)
    numbers = rng.permutation(n + n_missing_left).astype(np.int64) * 7919 + 100_000_000_007
    waybill = np.array(id_array(CARRIER_PREFIX[carrier], numbers, 13).to_pylist(), dtype=object)
    shipped = rng.integers(0, 30 * DAY, n + n_missing_left)
    fee = rng.integers(600, 4_000, n + n_missing_left)  # 6.00 - 39.99 yuan
    weight = rng.integers(100, 20_000, n + n_missing_left)
    province = PROVINCES[rng.integers(0, PROVINCES.size, n + n_missing_left)]

    role = rng.permutation(n)  # which shipments get which fate
    missing_right = role[:n_missing_right]
    fee_diff = role[n_missing_right:n_missing_right + n_fee]
    dup = role[n_missing_right + n_fee:n_missing_right + n_fee + n_dup]
    noise = role[n_missing_right + n_fee + n_dup:n_missing_right + n_fee + n_dup + n_noise]
    billed = np.setdiff1d(np.arange(n), missing_right)

    left = provenance({
        "waybill_no": pa.array(waybill[:n], pa.string()),
        "carrier": pa.array(CARRIERS[carrier[:n]], pa.string()),
        "order_id": id_array("O", np.arange(n) + 10_000_000, 12),
        "txn_time": time_array(shipped[:n]),
        "destination": pa.array(province[:n], pa.string()),
        "weight": measure_array(weight[:n]),
        "chargeable_weight": measure_array(weight[:n]),  # as rates.price() adds it
        "qty": pa.array(np.ones(n, dtype=np.int64)),
        "expected_fee": money_array(fee[:n]),
    }, "shipments.parquet", "bench_shipments")

    # bill lines: one per billed shipment, the duplicate copies, then the unknown waybills
    src = np.concatenate([billed, dup, np.arange(n, n + n_missing_left)])
    amount = fee[src].copy()
    delta = rng.integers(1, 500, n_fee) * rng.choice([-1, 1], n_fee)
    is_fee = np.isin(src, fee_diff)
    is_fee[len(billed):] = False
    fee_pos = np.flatnonzero(is_fee)
    amount[fee_pos] += delta[: fee_pos.size]
    bill_waybill = waybill[src].copy()
    noisy = np.flatnonzero(np.isin(src[: len(billed)], noise))
    bill_waybill[noisy] = [f" {w.lower()}  " for w in bill_waybill[noisy]]

    order = rng.permutation(src.size)  # bills are not in shipment order
    right = _permute({
        "waybill_no": pa.array(bill_waybill, pa.string()),
        "txn_time": time_array(shipped[src] + rng.integers(0, DAY, src.size)),
        "destination": pa.array(province[src], pa.string()),
        "billed_weight": measure_array(weight[src]),
        "amount": money_array(amount),
        "order_id": id_array("O", np.where(src < n, src, src + 50_000_000) + 10_000_000, 12),
        "carrier": pa.array(CARRIERS[carrier[src]], pa.string()),
    }, order)
    right = provenance(right, "courier_bill.parquet", "bench_courier_bill")
    src = src[order]

    # truth: true_group = shipment index (unknown waybills: n + k)
    left_event = np.full(n, -1, dtype=np.int64)
    right_event = np.full(src.size, -1, dtype=np.int64)
    categories, need_left, need_right = [], [], []

    def new_events(count: int, category: str, nl: int, nr: int) -> np.ndarray:
        start = len(categories)
        categories.extend([category] * count)
        need_left.extend([nl] * count)
        need_right.extend([nr] * count)
        return np.arange(start, start + count, dtype=np.int64)

    left_event[missing_right] = new_events(n_missing_right, "missing_on_right", 1, 0)
    fee_events = new_events(n_fee, "rate_card_violation", 1, 1)
    left_event[fee_diff] = fee_events
    event_of_fee = dict(zip(fee_diff.tolist(), fee_events.tolist()))
    dup_events = new_events(n_dup, "duplicate_on_right", 0, 1)
    event_of_dup = dict(zip(dup.tolist(), dup_events.tolist()))
    extra_events = new_events(n_missing_left, "missing_on_left", 0, 1)
    for pos, s in enumerate(src.tolist()):
        if s >= n:
            right_event[pos] = extra_events[s - n]
        elif s in event_of_fee:
            right_event[pos] = event_of_fee[s]
        elif s in event_of_dup:
            right_event[pos] = event_of_dup[s]

    groups = np.arange(n + n_missing_left, dtype=np.int64)
    exp_left = np.ones(groups.size, dtype=np.int64)
    exp_right = np.ones(groups.size, dtype=np.int64)
    for bad in (missing_right, fee_diff, np.arange(n, n + n_missing_left)):
        exp_left[bad] = 0
        exp_right[bad] = 0
    truth = Truth(np.arange(n, dtype=np.int64), left_event, src.astype(np.int64), right_event,
                  {"event_id": np.arange(len(categories), dtype=np.int64), "category": np.array(categories, dtype=object),
                   "need_left": np.array(need_left, dtype=np.int64), "need_right": np.array(need_right, dtype=np.int64)},
                  {"true_group": groups, "exp_left": exp_left, "exp_right": exp_right})
    out = out or DATA_DIR / f"courier_{rows}"
    write_workload(out, left, right, truth, {
        "workload": "courier", "rows": rows, "seed": seed, "left_rows": n, "right_rows": int(src.size),
        "injected": {"missing_on_right": n_missing_right, "rate_card_violation": n_fee,
                     "duplicate_on_right": n_dup, "missing_on_left": n_missing_left},
        "not_discrepancies": {"padded_lowercase_waybill": n_noise},
    })
    return out


# --- collections ----------------------------------------------------------------------------------

BATCH_CHANNELS = np.array(["京东", "天猫"])
DAILY_CHANNELS = np.array(["拼多多", "抖音"])
SINGLE_CHANNEL = "微信支付"
PAYERS = {"京东": "北京京东世纪贸易有限公司", "天猫": "支付宝（中国）网络技术有限公司",
          "拼多多": "上海寻梦信息技术有限公司", "抖音": "北京抖音信息服务有限公司",
          SINGLE_CHANNEL: "财付通支付科技有限公司"}


def batch_sizes(rng: np.random.Generator, lines: int, smallest: int, largest: int) -> np.ndarray:
    """Batch sizes drawn in [smallest, largest] that add up to ``lines``; a short last batch is folded
    into the one before it, so no batch is smaller than ``smallest`` (unless there is only one)."""
    sizes: list[int] = []
    while sum(sizes) < lines:
        sizes.append(int(rng.integers(smallest, largest + 1)))
    sizes[-1] -= sum(sizes) - lines
    if sizes[-1] < smallest and len(sizes) > 1:
        tail = sizes.pop()
        sizes[-1] += tail
    return np.array(sizes)


def _line_amounts(rng: np.random.Generator, count: int) -> np.ndarray:
    """Batch/daily line amounts in fen, all multiples of 40: sales, fees and refunds in a fixed mix.

    Position in the batch fixes the type (14 sales, 5 fees, 1 refund per 20 lines), so every batch of
    60+ lines sums to more than 7,000 yuan, beyond any five lines (< 5,000 yuan).
    """
    kind = np.arange(count) % 20
    sale = rng.integers(500, 2_500, count) * 40       # 200.00 - 999.60
    fee = -rng.integers(1, 75, count) * 40            # -0.40 - -29.60
    refund = -rng.integers(100, 750, count) * 40      # -40.00 - -299.60
    return np.where(kind < 14, sale, np.where(kind < 19, fee, refund)).astype(np.int64)


def _distinct_sums(amount: np.ndarray, start: np.ndarray, batch_of_line: np.ndarray) -> np.ndarray:
    """Batch sums, made distinct by raising a batch's first sale line 0.40 at a time.

    Two batches with the same total would be a true ambiguity (the unit tests cover that; the recipe
    has no channel on the bank side to tell them apart); the benchmark wants one right answer per credit.
    """
    sums = np.bincount(batch_of_line, weights=amount, minlength=start.size).astype(np.int64)
    taken: set[int] = set()
    for b in range(start.size):
        while int(sums[b]) in taken:
            amount[start[b]] += 40  # position 0 of a batch is always a sale line
            sums[b] += 40
        taken.add(int(sums[b]))
    return sums


def collections(rows: int, *, seed: int = 7, out: Path | None = None) -> Path:
    """Settlement lines vs bank credits; see the module docstring for what is injected."""
    rng = np.random.default_rng(seed)
    n_single = rows // 10
    n_daily = rows // 10
    n_batch_lines = rows - n_single - n_daily

    # batches of 60-140 lines, each on one day, channel 京东 or 天猫
    sizes = batch_sizes(rng, n_batch_lines, 60, 140)
    n_batches = sizes.size
    batch_of_line = np.repeat(np.arange(n_batches), sizes)
    batch_day = rng.integers(0, 30, n_batches)
    batch_channel = BATCH_CHANNELS[rng.integers(0, 2, n_batches)]
    batch_amount = np.concatenate([_line_amounts(rng, s) for s in sizes])
    batch_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    batch_sum = _distinct_sums(batch_amount, batch_start, batch_of_line)

    # daily lines: 拼多多 / 抖音, paid once per (day, channel)
    daily_day = rng.integers(0, 30, n_daily)
    daily_channel_idx = rng.integers(0, 2, n_daily)
    daily_amount = _line_amounts(rng, n_daily)
    daily_key = daily_day * 2 + daily_channel_idx
    daily_keys = np.unique(daily_key)
    daily_sum = np.bincount(daily_key, weights=daily_amount, minlength=60).astype(np.int64)

    # single lines: 0.07 above a multiple of 0.40; credits that must stay unexplained: 0.27 above
    n_single_missing = int(n_single * 0.015)
    n_single_off = int(n_single * 0.015)
    n_extra = int(n_single * 0.02)
    single_amount = rng.choice(250_000, n_single, replace=False).astype(np.int64) * 40 + 7
    single_time = rng.integers(0, 28 * DAY, n_single)
    fate = rng.permutation(n_single)
    single_missing = fate[:n_single_missing]
    single_off = fate[n_single_missing:n_single_missing + n_single_off]
    extra_amount = rng.choice(250_000, n_extra, replace=False).astype(np.int64) * 40 + 27

    # batch fates: 3% credit off by a few yuan (a multiple of 0.40), 2% credit missing
    batch_fate = rng.permutation(n_batches)
    n_batch_off = max(1, int(n_batches * 0.03))
    n_batch_missing = max(1, int(n_batches * 0.02))
    batch_off = batch_fate[:n_batch_off]
    batch_missing = batch_fate[n_batch_off:n_batch_off + n_batch_missing]

    # ---- left: settlement lines (batch, daily, single), shuffled
    settle_time = np.concatenate([
        batch_day[batch_of_line] * DAY + rng.integers(0, DAY, n_batch_lines),
        daily_day * DAY + rng.integers(0, DAY, n_daily),
        single_time,
    ])
    channel = np.concatenate([batch_channel[batch_of_line], DAILY_CHANNELS[daily_channel_idx],
                              np.full(n_single, SINGLE_CHANNEL)])
    amount = np.concatenate([batch_amount, daily_amount, single_amount])
    batch_id = np.concatenate([np.array(id_array("JS", batch_of_line + 8_000_000, 10).to_pylist(), dtype=object),
                               np.full(n_daily + n_single, None, dtype=object)])
    # true groups: batch b -> b; daily key k -> n_batches + k; single i -> n_batches + 60 + i
    line_group = np.concatenate([batch_of_line, n_batches + daily_key, n_batches + 60 + np.arange(n_single)])
    order = rng.permutation(rows)
    txn_type = np.where(amount > 0, "货款", "佣金/退款")
    left = provenance({
        "txn_id": id_array("SL", np.arange(rows) + 1, 12).take(pa.array(order)),
        "order_id": id_array("P", rng.permutation(rows) + 30_000_000, 12),
        "batch_id": pa.array(batch_id[order], pa.string()),
        "channel": pa.array(channel[order], pa.string()),
        "txn_time": time_array(settle_time[order]),
        "txn_type": pa.array(txn_type[order], pa.string()),
        "amount": money_array(amount[order]),
    }, "settlement_lines.parquet", "bench_settlement")
    left_group = line_group[order].astype(np.int64)

    # ---- right: bank credits
    credits_group, credits_amount, credits_time, credits_channel = [], [], [], []
    keep_batch = np.setdiff1d(np.arange(n_batches), batch_missing)
    batch_credit = batch_sum.copy()
    taken = set(batch_sum.tolist())
    for b in batch_off.tolist():  # off by a few yuan, and equal to no other batch payout
        credit = int(batch_sum[b]) + int(rng.integers(1, 50)) * 40 * int(rng.choice([-1, 1]))
        while credit in taken:
            credit += 40
        taken.add(credit)
        batch_credit[b] = credit
    credits_group.append(keep_batch)
    credits_amount.append(batch_credit[keep_batch])
    credits_time.append((batch_day[keep_batch] + 1) * DAY + rng.integers(9 * 3600, 17 * 3600, keep_batch.size))
    credits_channel.append(batch_channel[keep_batch])
    credits_group.append(n_batches + daily_keys)
    credits_amount.append(daily_sum[daily_keys])
    credits_time.append((daily_keys // 2 + 1) * DAY + rng.integers(9 * 3600, 17 * 3600, daily_keys.size))
    credits_channel.append(DAILY_CHANNELS[daily_keys % 2])
    paid = np.setdiff1d(np.arange(n_single), single_missing)
    single_credit = single_amount.copy()
    taken = set(extra_amount.tolist())
    for i in single_off.tolist():  # off by 0.20 + k * 0.40: 0.27 above a multiple of 0.40, like no line
        credit = int(single_amount[i]) + (int(rng.integers(0, 25)) * 40 + 20) * int(rng.choice([-1, 1]))
        while credit in taken or credit <= 0:
            credit += 40
        taken.add(credit)
        single_credit[i] = credit
    credits_group.append(n_batches + 60 + paid)
    credits_amount.append(single_credit[paid])
    credits_time.append(single_time[paid] + rng.integers(0, 2 * DAY + 1, paid.size))
    credits_channel.append(np.full(paid.size, SINGLE_CHANNEL))
    extra_group = n_batches + 60 + n_single + np.arange(n_extra)
    credits_group.append(extra_group)
    credits_amount.append(extra_amount)
    credits_time.append(rng.integers(0, 30 * DAY, n_extra))
    credits_channel.append(np.full(n_extra, SINGLE_CHANNEL))
    r_group = np.concatenate(credits_group).astype(np.int64)
    r_amount = np.concatenate(credits_amount)
    r_time = np.concatenate(credits_time)
    r_channel = np.concatenate(credits_channel)
    r_order = rng.permutation(r_group.size)
    n_right = r_group.size
    right = provenance({
        "txn_id": id_array("B", np.arange(n_right) + 1, 14),
        "txn_time": time_array(r_time[r_order]),
        "value_date": pa.array((MONTH_START + r_time[r_order].astype("timedelta64[s]")).astype("datetime64[D]"),
                               pa.date32()),
        "amount": money_array(r_amount[r_order]),
        "channel": pa.array(r_channel[r_order], pa.string()),
        "counterparty": pa.array([PAYERS[c] for c in r_channel[r_order]], pa.string()),
        "memo": pa.array(np.full(n_right, "货款结算", dtype=object), pa.string()),
    }, "bank_credits.parquet", "bench_bank")
    right_group = r_group[r_order]

    # ---- truth
    categories, need_left, need_right, event_group = [], [], [], []

    def add_event(category: str, group: int, nl: int, nr: int) -> None:
        categories.append(category)
        need_left.append(nl)
        need_right.append(nr)
        event_group.append(group)

    for b in batch_off.tolist():
        add_event("amount_mismatch", b, int(sizes[b]), 1)
    for b in batch_missing.tolist():
        add_event("missing_on_right", b, int(sizes[b]), 0)
    for i in single_missing.tolist():
        add_event("missing_on_right", n_batches + 60 + i, 1, 0)
    for i in single_off.tolist():
        add_event("amount_mismatch", n_batches + 60 + i, 1, 1)
    for g in extra_group.tolist():
        add_event("missing_on_left", g, 0, 1)
    event_of_group = np.full(n_batches + 60 + n_single + n_extra, -1, dtype=np.int64)
    event_of_group[np.array(event_group, dtype=np.int64)] = np.arange(len(event_group))
    exp_left = np.concatenate([sizes, np.bincount(daily_key, minlength=60), np.ones(n_single, int),
                               np.zeros(n_extra, int)]).astype(np.int64)
    exp_right = np.ones(exp_left.size, dtype=np.int64)
    exp_right[n_batches:n_batches + 60][np.bincount(daily_key, minlength=60) == 0] = 0
    bad = np.array(event_group, dtype=np.int64)
    exp_left[bad] = 0
    exp_right[bad] = 0
    truth = Truth(left_group, event_of_group[left_group], right_group, event_of_group[right_group],
                  {"event_id": np.arange(len(categories), dtype=np.int64), "category": np.array(categories, dtype=object),
                   "need_left": np.array(need_left, dtype=np.int64), "need_right": np.array(need_right, dtype=np.int64)},
                  {"true_group": np.arange(exp_left.size, dtype=np.int64), "exp_left": exp_left, "exp_right": exp_right})
    out = out or DATA_DIR / f"collections_{rows}"
    write_workload(out, left, right, truth, {
        "workload": "collections", "rows": rows, "seed": seed, "left_rows": rows, "right_rows": n_right,
        "batches": n_batches, "daily_payouts": int(daily_keys.size), "single_lines": n_single,
        "injected": {"batch_credit_off": n_batch_off, "batch_credit_missing": n_batch_missing,
                     "single_credit_missing": n_single_missing, "single_credit_off": n_single_off,
                     "unexplained_credit": n_extra},
    })
    return out


# --- ambiguity (keyless, many same-amount credits) --------------------------------------------------

AMBIGUITY_LEVELS = (1, 10, 30)  # percent of the single-paid lines that share their amount inside the window


def ambiguity(rows: int, *, percent: int = 10, seed: int = 11, out: Path | None = None) -> Path:
    """Store settlement lines vs bank credits where ``percent`` % of the keyless lines are ambiguous.

    Recipe ``store_settlement_bank``: batch lines (10% of lines, batches of 5-19, 10% of batches never
    paid: their lines stay open) are paid by one credit per batch 0-3 days later; every other line is
    paid by one credit of the same amount 0-3 days later that names nothing. ``percent`` % of those
    single lines come in *clusters* of 2-4 lines of the same amount on the same day, each paid by its
    own credit 0-3 days later, so every line of a cluster is an equally good candidate of every credit
    of it (one cluster in five has one line nobody pays). Nothing in the data tells which credit pays
    which line: a correct engine refuses to link them (recall below 1, no false link); a peer that
    takes the nearest date guesses and links some falsely.

    Amounts keep everything else decidable: batch lines are multiples of 0.40 (so batch sums are too),
    single amounts are 0.07 above a multiple of 0.40 and distinct across the month except inside a
    cluster, credits nobody can explain (1% of singles) are 0.27 above one; 1% of single lines are
    never paid. Truth as in the other workloads; a cluster's lines each expect their own credit.
    """
    rng = np.random.default_rng(seed + percent)
    n_batch_lines = rows // 10
    n_single = rows - n_batch_lines

    sizes = batch_sizes(rng, n_batch_lines, 5, 19)
    n_batches = sizes.size
    batch_of_line = np.repeat(np.arange(n_batches), sizes)
    batch_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    batch_amount = rng.integers(500, 2_500, n_batch_lines).astype(np.int64) * 40  # 200.00 - 999.60
    batch_sum = _distinct_sums(batch_amount, batch_start, batch_of_line)
    batch_day = rng.integers(0, 27, n_batches)
    batch_paid = rng.random(n_batches) >= 0.10

    # single lines: clusters first (ambiguous), then the decidable rest
    n_amb_target = n_single * percent // 100
    cluster_sizes = []
    while sum(cluster_sizes) < n_amb_target:
        cluster_sizes.append(int(rng.integers(2, 5)))
    if cluster_sizes and sum(cluster_sizes) > n_amb_target:
        cluster_sizes[-1] -= sum(cluster_sizes) - n_amb_target
        if cluster_sizes[-1] < 2:
            cluster_sizes.pop()
    cluster_sizes = np.array(cluster_sizes, dtype=np.int64)
    n_amb = int(cluster_sizes.sum())
    n_clusters = cluster_sizes.size
    cluster_of = np.repeat(np.arange(n_clusters), cluster_sizes)
    distinct = rng.choice(2_500_000, n_single - n_amb + n_clusters, replace=False).astype(np.int64) * 40 + 7
    single_amount = np.concatenate([distinct[:n_clusters][cluster_of], distinct[n_clusters:]])
    single_day = np.concatenate([rng.integers(0, 27, n_clusters)[cluster_of], rng.integers(0, 27, n_single - n_amb)])
    single_time = single_day * DAY + rng.integers(8 * 3600, 22 * 3600, n_single)
    # unpaid: the last line of one cluster in five, and 1% of the decidable lines
    last_of_cluster = np.append(cluster_of[1:] != cluster_of[:-1], True) if n_amb else np.zeros(0, dtype=bool)
    unpaid_cluster = rng.random(n_clusters) < 0.20
    unpaid = np.concatenate([last_of_cluster & unpaid_cluster[cluster_of],
                             rng.random(n_single - n_amb) < 0.01])
    n_extra = n_single // 100
    extra_amount = rng.choice(2_500_000, n_extra, replace=False).astype(np.int64) * 40 + 27

    # ---- left: batch lines then single lines, shuffled
    settle_time = np.concatenate([batch_day[batch_of_line] * DAY + rng.integers(8 * 3600, 22 * 3600, n_batch_lines),
                                  single_time])
    amount = np.concatenate([batch_amount, single_amount])
    batch_id = np.concatenate([np.array(id_array("JS", batch_of_line + 8_000_000, 10).to_pylist(), dtype=object),
                               np.full(n_single, None, dtype=object)])
    line_group = np.concatenate([batch_of_line, n_batches + np.arange(n_single)])
    order = rng.permutation(rows)
    left = provenance({
        "order_id": id_array("P", np.arange(rows) + 40_000_000, 12).take(pa.array(order)),
        "batch_id": pa.array(batch_id[order], pa.string()),
        "txn_time": time_array(settle_time[order]),
        "amount": money_array(amount[order]),
    }, "store_settlement.parquet", "bench_store_settlement")
    left_group = line_group[order].astype(np.int64)

    # ---- right: one credit per paid batch, per paid single line, and the unexplained ones
    paid_b = np.flatnonzero(batch_paid)
    paid_s = np.flatnonzero(~unpaid)
    extra_group = n_batches + n_single + np.arange(n_extra)
    r_group = np.concatenate([paid_b, n_batches + paid_s, extra_group]).astype(np.int64)
    r_amount = np.concatenate([batch_sum[paid_b], single_amount[paid_s], extra_amount])
    r_day = np.concatenate([batch_day[paid_b] + rng.integers(0, 4, paid_b.size),
                            single_day[paid_s] + rng.integers(0, 4, paid_s.size),
                            rng.integers(0, 30, n_extra)])
    r_time = r_day * DAY + rng.integers(23 * 3600, 24 * 3600 - 1, r_group.size)  # after every line of its day
    r_order = rng.permutation(r_group.size)
    n_right = r_group.size
    right = provenance({
        "txn_id": id_array("B", np.arange(n_right) + 1, 14),
        "txn_time": time_array(r_time[r_order]),
        "amount": money_array(r_amount[r_order]),
        "memo": pa.array(np.full(n_right, "门店结算", dtype=object), pa.string()),
    }, "bank_credits.parquet", "bench_bank")
    right_group = r_group[r_order]

    # ---- truth
    n_groups = n_batches + n_single + n_extra
    exp_left = np.concatenate([sizes, np.ones(n_single, np.int64), np.zeros(n_extra, np.int64)]).astype(np.int64)
    exp_right = np.ones(n_groups, dtype=np.int64)
    bad_batch = np.flatnonzero(~batch_paid)
    bad_single = n_batches + np.flatnonzero(unpaid)
    exp_left[bad_batch] = exp_right[bad_batch] = 0
    exp_left[bad_single] = exp_right[bad_single] = 0
    exp_left[extra_group] = exp_right[extra_group] = 0
    event_group = np.concatenate([bad_batch, bad_single, extra_group]).astype(np.int64)
    categories = np.array(["missing_on_right"] * (bad_batch.size + bad_single.size) + ["missing_on_left"] * n_extra,
                          dtype=object)
    need_left = np.concatenate([sizes[bad_batch], np.ones(bad_single.size, np.int64),
                                np.zeros(n_extra, np.int64)]).astype(np.int64)
    need_right = np.concatenate([np.zeros(bad_batch.size + bad_single.size, np.int64), np.ones(n_extra, np.int64)])
    event_of_group = np.full(n_groups, -1, dtype=np.int64)
    event_of_group[event_group] = np.arange(event_group.size)
    truth = Truth(left_group, event_of_group[left_group], right_group, event_of_group[right_group],
                  {"event_id": np.arange(event_group.size, dtype=np.int64), "category": categories,
                   "need_left": need_left, "need_right": need_right},
                  {"true_group": np.arange(n_groups, dtype=np.int64), "exp_left": exp_left, "exp_right": exp_right})
    out = out or DATA_DIR / f"ambiguity{percent}_{rows}"
    write_workload(out, left, right, truth, {
        "workload": f"ambiguity{percent}", "rows": rows, "seed": seed, "left_rows": rows, "right_rows": n_right,
        "batches": n_batches, "single_lines": n_single, "ambiguous_lines": n_amb, "clusters": n_clusters,
        "injected": {"unpaid_batch": int(bad_batch.size), "unpaid_single": int(bad_single.size),
                     "unexplained_credit": n_extra},
    })
    return out


WORKLOADS = {"courier": courier, "collections": collections,
             **{f"ambiguity{p}": partial(ambiguity, percent=p) for p in AMBIGUITY_LEVELS}}


def ensure(name: str, rows: int, *, regenerate: bool = False) -> Path:
    """Path of a generated workload, generating it first if absent (or asked to)."""
    out = DATA_DIR / f"{name}_{rows}"
    if regenerate or not (out / "meta.json").exists():
        WORKLOADS[name](rows, out=out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate the matching benchmark workloads.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="left rows per workload")
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all", help="which workload")
    args = parser.parse_args()
    for name in WORKLOADS if args.workload == "all" else [args.workload]:
        path = ensure(name, args.rows, regenerate=True)
        print(path, (path / "meta.json").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
