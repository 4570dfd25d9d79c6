"""The four platform order exports, shaped like the real ones (FORMATS.md section 5).

* ``shop/taobao_orders.csv`` - 千牛 订单报表: GBK, CRLF, ids written ``="…"``, phone with a leading
  apostrophe, 订单关闭原因 ``订单未关闭`` for open orders;
* ``shop/jd_orders.xlsx`` - JD merchant order export, one row per SKU line (订单号 repeats);
* ``shop/pdd_orders.csv`` - Pinduoduo export, UTF-8 with BOM, 订单成交时间 with a trailing TAB;
* ``shop/douyin_orders.csv`` - 抖店 export, UTF-8 with BOM, every id/text cell ``"\\t<value>"``,
  ``-`` for empty, personal data as ciphertext placeholders.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from recon_helpers.demo import vocab
from recon_helpers.demo.model import Month, Shop, mask_phone
from recon_helpers.demo.writers import fen_text, int_text, time_text, write_csv, write_xlsx

TAOBAO_HEADER = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,买家实际支付金额,"
    "买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址,运送方式,联系电话,联系手机,订单创建时间,订单付款时间,宝贝标题,"
    "宝贝种类,物流单号,物流公司,订单备注,宝贝总数量,店铺Id,店铺名称,订单关闭原因,卖家服务费,买家服务费,发票抬头,是否手机订单,"
    "分阶段订单信息,定金排名,修改后的sku,修改后的收货地址,异常信息,天猫卡券抵扣,集分宝抵扣,是否是O2O交易"
).split(",")
JD_HEADER = (
    "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,结算金额,余额支付,应付金额,订单状态,订单类型,下单帐号,"
    "客户姓名,客户地址,联系电话,订单备注,发票类型,发票抬头,发票内容,商家备注,商家备注等级（等级1-5为由高到低）,运费金额,"
    "付款确认时间,增值税发票,货号,订单完成时间,订单来源,订单渠道"
).split(",")
PDD_HEADER = (
    "商品,订单号,订单状态,商品总价(元),邮费(元),店铺优惠折扣(元),平台优惠折扣(元),多多支付立减金额(元),用户实付金额(元),"
    "商家实收金额(元),商品数量(件),发货时间,确认收货时间,商品id,商品规格,样式ID,商家编码-规格维度,商家编码-商品维度,商家备注,"
    "售后状态,快递单号,快递公司,订单成交时间,是否分期,分期期数,手续费承担方,分期方式"
).split(",")
DOUYIN_HEADER = (
    "主订单编号,子订单编号,选购商品,商品规格,商品数量,商品ID,商家编码,商品单价,订单应付金额,运费,优惠总金额,"
    "平台实际承担优惠金额,商家实际承担优惠金额,达人实际承担优惠金额,支付方式,收件人,收件人手机号,详细地址,订单提交时间,"
    "支付完成时间,订单完成时间,发货时间,订单状态,售后状态,取消原因,商家备注,达人ID,达人昵称,快递信息"
).split(",")

#: platform -> order kind -> status text the platform shows
STATUS = {
    "taobao": {"normal": "交易成功", "closed": "交易关闭", "closed_shipped": "交易关闭",
               "unshipped": "买家已付款，等待卖家发货"},
    "jd": {"normal": "完成", "closed": "已取消", "closed_shipped": "已取消", "unshipped": "等待出库"},
    "pdd": {"normal": "已签收", "closed": "已取消", "closed_shipped": "已取消", "unshipped": "待发货"},
    "douyin": {"normal": "已完成", "closed": "已关闭", "closed_shipped": "已关闭", "unshipped": "待发货"},
}
#: statuses meaning "the platform considers the order shipped and done" (expect an outbound and money)
OPEN_DONE = {"taobao": "交易成功", "jd": "完成", "pdd": "已签收", "douyin": "已完成"}


def _status(orders: pd.DataFrame, platform: str) -> pd.Series:
    return orders["kind"].map(STATUS[platform])


def write_orders(month: Month, shop: Shop, *, refunded: set[int]) -> None:
    """Write the four order exports; ``refunded`` = order indexes with a completed after-sale refund."""
    write_taobao(month, shop)
    write_jd(month, shop)
    write_pdd(month, shop, refunded)
    write_douyin(month, shop, refunded)


def _shipped_text(month: Month, seconds: pd.Series) -> pd.Series:
    return time_text(month.start, seconds.to_numpy())


def write_taobao(month: Month, shop: Shop) -> None:
    o = shop.orders[shop.orders["platform"] == "taobao"]
    first = shop.lines[shop.lines["line_no"] == 1].set_index("order_idx").loc[o.index]
    n = len(o)
    blank = pd.Series([""] * n, dtype=object)
    zero = pd.Series(["0"] * n, dtype=object)
    has_waybill = o["waybill"].to_numpy() != ""
    body = pd.DataFrame({
        "订单编号": '="' + pd.Series(o["order_no"].to_numpy(), dtype=object) + '"',
        "买家会员名": o["nick"].to_numpy(),
        "买家支付宝账号": mask_phone(o["phone"].to_numpy()),
        "买家应付货款": fen_text(o["goods_fen"]),
        "买家应付邮费": fen_text(o["postage_fen"]),
        "买家支付积分": zero,
        "总金额": fen_text(o["goods_fen"] + o["postage_fen"]),
        "返点积分": zero,
        "买家实际支付金额": fen_text(o["paid_fen"]),
        "买家实际支付积分": zero,
        "订单状态": _status(o, "taobao").to_numpy(),
        "买家留言": blank,
        "收货人姓名": o["buyer"].to_numpy(),
        "收货地址": o["address"].to_numpy(),
        "运送方式": "快递",
        "联系电话": blank,
        "联系手机": "'" + pd.Series(o["phone"].to_numpy(), dtype=object),
        "订单创建时间": time_text(month.start, o["created_s"]),
        "订单付款时间": time_text(month.start, o["paid_s"]),
        "宝贝标题": vocab.product_column(first["sku_idx"], 1),
        "宝贝种类": "1",
        "物流单号": np.where(has_waybill, o["waybill"].to_numpy(), ""),
        "物流公司": np.where(has_waybill, o["carrier"].map(vocab.CARRIER_NAMES).to_numpy(), ""),
        "订单备注": blank,
        "宝贝总数量": int_text(o["qty_total"]),
        "店铺Id": "2207891234",
        "店铺名称": vocab.SHOP_NAME,
        "订单关闭原因": np.where(o["close_reason"].to_numpy() == "", "订单未关闭", o["close_reason"].to_numpy()),
        "卖家服务费": "0",
        "买家服务费": "0元",
        "发票抬头": blank,
        "是否手机订单": "手机订单",
        "分阶段订单信息": blank, "定金排名": blank, "修改后的sku": blank, "修改后的收货地址": blank,
        "异常信息": blank, "天猫卡券抵扣": blank, "集分宝抵扣": blank, "是否是O2O交易": blank,
    })
    write_csv(month.path("shop/taobao_orders.csv"), TAOBAO_HEADER, body, encoding="gbk", newline="\r\n",
              raw=["订单编号"])


def write_jd(month: Month, shop: Shop) -> None:
    o = shop.orders
    ln = shop.lines[o["platform"].to_numpy()[shop.lines["order_idx"]] == "jd"]
    oo = o.loc[ln["order_idx"]]
    n = len(ln)
    blank = pd.Series([""] * n, dtype=object)
    normal = oo["kind"].to_numpy() == "normal"
    body = pd.DataFrame({
        "订单号": oo["order_no"].to_numpy(),
        "商品ID": (100_041_170_000 + ln["sku_idx"].to_numpy() * 1_379).astype(str),
        "商品名称": vocab.product_column(ln["sku_idx"], 1),
        "订购数量": int_text(ln["qty"]),
        "支付方式": "在线支付",
        "下单时间": time_text(month.start, oo["created_s"]),
        "京东价": fen_text(ln["unit_fen"]),
        "订单金额": fen_text(oo["goods_fen"] + oo["postage_fen"]),
        "结算金额": fen_text(ln["amount_fen"] - ln["disc_fen"]),
        "余额支付": "0.00",
        "应付金额": fen_text(oo["paid_fen"]),
        "订单状态": _status(oo, "jd").to_numpy(),
        "订单类型": "SOP",
        "下单帐号": pd.Series(oo["nick"].to_numpy(), dtype=object).str[:2] + "***",
        "客户姓名": oo["buyer"].to_numpy(),
        "客户地址": oo["address"].to_numpy(),
        "联系电话": mask_phone(oo["phone"].to_numpy()),
        "订单备注": blank,
        "发票类型": "电子发票",
        "发票抬头": "个人",
        "发票内容": "商品明细",
        "商家备注": blank,
        "商家备注等级（等级1-5为由高到低）": blank,
        "运费金额": fen_text(ln["postage_fen"]),
        "付款确认时间": time_text(month.start, oo["paid_s"]),
        "增值税发票": "否",
        "货号": vocab.product_column(ln["sku_idx"], 0),
        "订单完成时间": time_text(month.start, np.where(normal, oo["settle_s"], -1)),
        "订单来源": np.where(oo["created_s"].to_numpy() % 5 == 0, "PC端", "移动端"),
        "订单渠道": "京东商城",
    })
    money = {c: "money" for c in ("京东价", "订单金额", "结算金额", "余额支付", "应付金额", "运费金额")}
    money["订购数量"] = "int"
    write_xlsx(month.path("shop/jd_orders.xlsx"), JD_HEADER, body, when=month.export_time,
               sheet_name="订单列表", numeric=money)


def write_pdd(month: Month, shop: Shop, refunded: set[int]) -> None:
    o = shop.orders[shop.orders["platform"] == "pdd"]
    first = shop.lines[shop.lines["line_no"] == 1].set_index("order_idx").loc[o.index]
    n = len(o)
    blank = pd.Series([""] * n, dtype=object)
    kind = o["kind"].to_numpy()
    after_sale = np.where(np.isin(kind, ["closed", "closed_shipped"]) | np.isin(o.index, sorted(refunded)),
                          "退款成功", "无售后或售后取消")
    shipped = o["waybill"].to_numpy() != ""
    body = pd.DataFrame({
        "商品": vocab.product_column(first["sku_idx"], 1),
        "订单号": o["order_no"].to_numpy(),
        "订单状态": _status(o, "pdd").to_numpy(),
        "商品总价(元)": fen_text(o["goods_fen"]),
        "邮费(元)": fen_text(o["postage_fen"]),
        "店铺优惠折扣(元)": fen_text(o["discount_fen"]),
        "平台优惠折扣(元)": fen_text(o["platform_disc_fen"]),
        "多多支付立减金额(元)": "0.00",
        "用户实付金额(元)": fen_text(o["paid_fen"] - o["platform_disc_fen"]),
        "商家实收金额(元)": fen_text(o["paid_fen"]),
        "商品数量(件)": int_text(o["qty_total"]),
        "发货时间": time_text(month.start, o["ship_s"]),
        "确认收货时间": time_text(month.start, np.where(kind == "normal", o["settle_s"], -1)),
        "商品id": (6_241_930_000 + first["sku_idx"].to_numpy() * 7_919).astype(str),
        "商品规格": vocab.product_column(first["sku_idx"], 2),
        "样式ID": (1_620_000_000 + first["sku_idx"].to_numpy() * 313).astype(str),
        "商家编码-规格维度": vocab.product_column(first["sku_idx"], 0),
        "商家编码-商品维度": pd.Series(vocab.product_column(first["sku_idx"], 0)).str[:5].to_numpy(),
        "商家备注": blank,
        "售后状态": after_sale,
        "快递单号": np.where(shipped, o["waybill"].to_numpy(), ""),
        "快递公司": np.where(shipped, o["carrier"].map(vocab.CARRIER_NAMES).to_numpy(), ""),
        "订单成交时间": time_text(month.start, o["paid_s"]) + "\t",
        "是否分期": "否",
        "分期期数": "0",
        "手续费承担方": blank,
        "分期方式": blank,
    })
    write_csv(month.path("shop/pdd_orders.csv"), PDD_HEADER, body, encoding="utf-8-sig")


def _cipher(rng: np.random.Generator, n: int, mark: str) -> np.ndarray:
    """Encrypted-placeholder personal data, like 抖店's ``##…`` / ``$$…`` ciphertext."""
    digits = np.array(list("0123456789abcdef"), dtype=object)
    codes = digits[rng.integers(0, 16, size=(n, 12))]
    return np.array([mark + "".join(row) for row in codes], dtype=object) if n else np.array([], dtype=object)


def _tab(values) -> pd.Series:
    """``"\\t<value>"`` - 抖店 wraps every id/text cell this way so Excel keeps it as text."""
    s = pd.Series(np.asarray(values, dtype=object)).fillna("").astype(str)
    s = s.where(s != "", "-")
    return '"\t' + s.str.replace('"', '""', regex=False) + '"'


def write_douyin(month: Month, shop: Shop, refunded: set[int]) -> None:
    o = shop.orders
    ln = shop.lines[o["platform"].to_numpy()[shop.lines["order_idx"]] == "douyin"]
    oo = o.loc[ln["order_idx"]]
    n = len(ln)
    rng = month.rng("douyin-orders")
    kind = oo["kind"].to_numpy()
    normal = kind == "normal"
    shipped = oo["waybill"].to_numpy() != ""
    after_sale = np.where(np.isin(kind, ["closed", "closed_shipped"]) | np.isin(ln["order_idx"], sorted(refunded)),
                          "退款成功", "-")
    pay = np.array(["抖音支付", "微信", "支付宝", "抖音月付"], dtype=object)[rng.choice(4, n, p=[0.45, 0.3, 0.2, 0.05])]
    talent = rng.random(n) < 0.3
    talent_id = np.where(talent, (7_100_000_000 + rng.integers(0, 10**8, n)).astype(str), "-")
    talent_name = np.where(talent, np.array(["家居好物分享官", "小鹿爱收纳", "阿杰的生活馆", "周末去露营"], dtype=object)[rng.integers(0, 4, n)], "-")

    def dash(text: pd.Series) -> pd.Series:
        return text.where(text != "", "-")

    body = pd.DataFrame({
        "主订单编号": _tab(oo["order_no"]),
        "子订单编号": _tab(ln["sub_order_no"]),
        "选购商品": _tab(vocab.product_column(ln["sku_idx"], 1)),
        "商品规格": _tab(vocab.product_column(ln["sku_idx"], 2)),
        "商品数量": int_text(ln["qty"]),
        "商品ID": _tab((3_604_880_000_000_000 + ln["sku_idx"].to_numpy() * 104_729).astype(str)),
        "商家编码": _tab(vocab.product_column(ln["sku_idx"], 0)),
        "商品单价": fen_text(ln["unit_fen"]),
        "订单应付金额": fen_text(ln["income_fen"] - ln["pdisc_fen"]),
        "运费": fen_text(ln["postage_fen"]),
        "优惠总金额": fen_text(ln["disc_fen"] + ln["pdisc_fen"]),
        "平台实际承担优惠金额": fen_text(ln["pdisc_fen"]),
        "商家实际承担优惠金额": fen_text(ln["disc_fen"]),
        "达人实际承担优惠金额": "0.00",
        "支付方式": _tab(pay),
        "收件人": _cipher(rng, n, "##"),
        "收件人手机号": _cipher(rng, n, "$$"),
        "详细地址": _cipher(rng, n, "##"),
        "订单提交时间": time_text(month.start, oo["created_s"]),
        "支付完成时间": time_text(month.start, oo["paid_s"]),
        "订单完成时间": dash(time_text(month.start, np.where(normal, oo["settle_s"], -1))),
        "发货时间": dash(time_text(month.start, oo["ship_s"])),
        "订单状态": _tab(_status(oo, "douyin")),
        "售后状态": _tab(np.where(after_sale == "-", "", after_sale)),
        "取消原因": _tab(oo["close_reason"]),
        "商家备注": _tab([""] * n),
        "达人ID": _tab(np.where(talent_id == "-", "", talent_id)),
        "达人昵称": _tab(np.where(talent_name == "-", "", talent_name)),
        "快递信息": _tab(np.where(shipped, pd.Series(oo["waybill"].to_numpy(), dtype=object) + "-"
                                  + oo["carrier"].map(vocab.CARRIER_NAMES).to_numpy(), "")),
    })
    # wrapped cells are already quoted; the other cells (numbers, times, ciphertext) never need quoting
    write_csv(month.path("shop/douyin_orders.csv"), DOUYIN_HEADER, body, encoding="utf-8-sig", raw=DOUYIN_HEADER)
