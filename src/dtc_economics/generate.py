"""Deterministic demo store generator: a believable DTC brand with planted effects.

The generator writes the six raw tables of :mod:`dtc_economics.contract` (orders,
order_lines, refunds, customers, products, marketing_spend) as ``<table>.csv`` or
``<table>.parquet``. Everything is vectorised numpy seeded from ``--seed``: the same
arguments give byte-identical files. The planted effects and their magnitudes are
documented in ``docs/demo_store.md``.

Conventions of the output:

* money is written in EUR with two decimals, VAT-inclusive (``prices_include_tax``);
  marketing spend is excl. VAT;
* CSV timestamps are ISO-8601, mostly UTC with ``Z``, a few in Paris wall-clock time with
  a ``+01:00`` / ``+02:00`` offset; parquet timestamps are naive ``timestamp[us]`` in UTC;
* order wall-clock times are Paris 04:00-23:59, so the UTC date equals the Paris date.

``--append-day SRC`` copies an existing store and appends one more day (new orders,
late refunds on older orders, spend), leaving every earlier row unchanged.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from dtc_economics.contract import TABLES, TABLES_BY_NAME

DEFAULT_END_DATE = date(2026, 10, 31)
HISTORY_MONTHS = 36
FORMATS = ("csv", "parquet")

# --------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------

CATEGORIES = ("refill", "skincare", "accessory", "gadget", "food")
REFILL, SKINCARE, ACCESSORY, GADGET, FOOD = range(5)
FORMULA_PRODUCT_NAME = '=HYPERLINK("http://x","click")'

# (product_id, name, category, list price incl. VAT in cents); grouped by category.
PRODUCTS: tuple[tuple[str, str, int, int], ...] = (
    ("P001", "Hand Soap Refill 500ml", REFILL, 1290),
    ("P002", "Hand Soap Refill, Lavender (3 x 500ml)", REFILL, 3290),
    ("P003", "Dish Soap Refill 1L", REFILL, 1490),
    ("P004", "Laundry Sheets Refill (60 washes)", REFILL, 1990),
    ("P005", "Surface Spray Refill Concentrate", REFILL, 990),
    ("P006", "Shampoo Bar Refill", REFILL, 1350),
    ("P007", "Body Wash Refill 1L", REFILL, 2490),
    ("P008", 'Refill Bundle "Home Essentials"', REFILL, 4990),
    ("P009", "Deodorant Refill, Citrus", REFILL, 1190),
    ("P010", "Toothpaste Tablets Refill (180)", REFILL, 1690),
    ("P011", "Daily Face Cream 50ml", SKINCARE, 3490),
    ("P012", 'The "Everyday" Serum 30ml', SKINCARE, 4200),
    ("P013", "Gentle Cleanser 150ml", SKINCARE, 2250),
    ("P014", "Night Repair Balm", SKINCARE, 4800),
    ("P015", "SPF 50 Fluid, Tinted", SKINCARE, 2990),
    ("P016", "Eye Contour Gel 15ml", SKINCARE, 2750),
    ("P017", "Lip Balm Duo", SKINCARE, 990),
    ("P018", "Travel Kit (5 minis)", SKINCARE, 1990),
    ("P019", "Vitamin C Booster 15ml", SKINCARE, 3600),
    ("P020", "Glass Soap Dispenser", ACCESSORY, 1800),
    ("P021", "Bamboo Toothbrush (4-pack)", ACCESSORY, 1200),
    ("P022", "Cotton Tote Bag", ACCESSORY, 800),
    ("P023", "Reusable Makeup Pads, 10 pcs", ACCESSORY, 1450),
    ("P024", "Aluminium Spray Bottle", ACCESSORY, 1600),
    ("P025", "Soap Dish, Ceramic", ACCESSORY, 1500),
    ("P026", 'Travel Case "Weekender"', ACCESSORY, 2400),
    ("P027", FORMULA_PRODUCT_NAME, ACCESSORY, 1000),
    ("P028", "Sonic Facial Brush", GADGET, 8900),
    ("P029", "LED Light Therapy Mask", GADGET, 11900),
    ("P030", "Electric Toothbrush", GADGET, 6900),
    ("P031", "Aroma Diffuser, Smart", GADGET, 7900),
    ("P032", "Travel Hair Dryer", GADGET, 5900),
    ("P033", "Jade Roller & Gua Sha Set", GADGET, 3900),
    ("P034", "Refillable Soap Station", GADGET, 9900),
    ("P035", "Organic Green Tea (100g)", FOOD, 1250),
    ("P036", "Protein Granola, Cocoa", FOOD, 950),
    ("P037", "Collagen Drink Mix 300g", FOOD, 3400),
    ("P038", 'Herbal Infusion "Sleep" (20 bags)', FOOD, 890),
    ("P039", "Honey & Ginger Chews", FOOD, 800),
    ("P040", "Superfood Powder 250g", FOOD, 2900),
)
VAT_STANDARD = 0.20
VAT_FOOD = 0.055
PRODUCT_CAT = np.array([p[2] for p in PRODUCTS], dtype=np.int64)
PRODUCT_PRICE = np.array([p[3] for p in PRODUCTS], dtype=np.int64)
CAT_START = np.array([int(np.argmax(PRODUCT_CAT == c)) for c in range(5)], dtype=np.int64)
CAT_SIZE = np.bincount(PRODUCT_CAT, minlength=5).astype(np.int64)
GIFT_PRODUCTS = np.array([16, 17, 21, 22, 37], dtype=np.int64)  # lip balm, kit, tote, pads, tea
SAMPLE_PRODUCTS = np.array([11, 12, 15, 17], dtype=np.int64)  # serum, cleanser, eye gel, kit
# first-order category shares and repeat-propensity multipliers (relative to the average)
FIRST_CAT_SHARE = np.array([0.25, 0.30, 0.15, 0.15, 0.15])
FIRST_CAT_REPEAT = np.array([1.60, 1.00, 0.70, 0.40, 0.90])
# category popularity of lines in repeat orders that leave the customer's home category
CAT_POPULARITY = np.array([0.35, 0.30, 0.15, 0.05, 0.15])
# P(quantity > 1), P(> 2), P(> 3) by category
QTY_THRESHOLDS = np.array(
    [[0.40, 0.15, 0.05], [0.12, 0.02, 0.0], [0.12, 0.02, 0.0], [0.03, 0.0, 0.0], [0.40, 0.15, 0.05]]
)

# Costs (issue 15, docs/demo_store.md "Costs and margins"). Unit cost excl. VAT as a share
# of the list price excl. VAT, by category: the gross margin rate at full price is 1 - this
# (refill 70 %, skincare 75 %, accessory 55 %, gadget 35 %, food 45 %).
COST_TO_NET_PRICE = np.array([0.30, 0.25, 0.45, 0.65, 0.55])
PRODUCT_VAT = np.where(PRODUCT_CAT == FOOD, VAT_FOOD, VAT_STANDARD)
PRODUCT_COST = np.round(PRODUCT_PRICE / (1 + PRODUCT_VAT) * COST_TO_NET_PRICE[PRODUCT_CAT])
PRODUCT_COST = PRODUCT_COST.astype(np.int64)  # cents
UNKNOWN_COST_PRODUCT = 26  # P027: no catalogue cost; only its recent lines carry one
LINE_COST_DAYS = 365  # lines of the last N history days carry unit_cost (cost at sale)
SHIPPING_COST_BASE = 590  # cents excl. VAT paid to the carrier per shipped order
SHIPPING_COST_PER_UNIT = 60  # cents per unit beyond the first, up to 5 extra units
COST_COLUMNS = {"orders": "shipping_cost", "order_lines": "unit_cost", "products": "unit_cost"}

# --------------------------------------------------------------------------------------
# Channels and UTMs (pairs resolve through seeds/channel_mapping.csv)
# --------------------------------------------------------------------------------------

CHANNELS = (
    "paid_social",
    "paid_search",
    "organic",
    "affiliate",
    "influencer",
    "email",
    "referral",
    "direct",
    "unknown",
)
PAID_SOCIAL, PAID_SEARCH, ORGANIC, AFFILIATE, INFLUENCER, EMAIL, REFERRAL, DIRECT, UNKNOWN = range(
    9
)
N_ACQ_CHANNELS = 7
ACQ_SHARE = np.array([0.30, 0.20, 0.15, 0.12, 0.08, 0.08, 0.07])
CHANNEL_REPEAT = np.array([0.95, 1.05, 1.10, 0.50, 1.10, 1.15, 1.50])
FIRST_ORDER_DIRECT = 0.03  # first orders whose UTMs are missing (direct)
FIRST_ORDER_UNKNOWN = 0.02  # first orders with UTMs that map to no channel
# channel mix of repeat orders (codes as CHANNELS)
REPEAT_CH_MIX = np.array([0.10, 0.08, 0.22, 0.02, 0.02, 0.45, 0.02, 0.08, 0.01])
WINBACK_CH_MIX = np.array([0.20, 0.0, 0.10, 0.0, 0.0, 0.60, 0.0, 0.10, 0.0])

# (utm_source, utm_medium, weight) per channel code; direct has none
UTM_PAIRS: dict[int, tuple[tuple[str, str, float], ...]] = {
    PAID_SOCIAL: (
        ("facebook", "paid_social", 0.45),
        ("instagram", "paid_social", 0.25),
        ("facebook", "cpc", 0.10),
        ("tiktok", "paid_social", 0.12),
        ("meta", "paid_social", 0.08),
    ),
    PAID_SEARCH: (("google", "cpc", 0.75), ("bing", "cpc", 0.10), ("google", "paid_search", 0.15)),
    ORGANIC: (
        ("google", "organic", 0.70),
        ("bing", "organic", 0.10),
        ("duckduckgo", "organic", 0.10),
        ("ecosia", "seo", 0.10),
    ),
    AFFILIATE: (
        ("awin", "affiliate", 0.40),
        ("idealo", "affiliate", 0.15),
        ("dealabs", "coupon", 0.30),
        ("igraal", "coupon", 0.15),
    ),
    INFLUENCER: (("youtube", "influencer", 0.6), ("creators", "influencer", 0.4)),
    EMAIL: (("klaviyo", "email", 0.70), ("newsletter", "email", 0.20), ("klaviyo", "sms", 0.10)),
    REFERRAL: (("friendbuy", "referral", 0.8), ("mention-me", "referral", 0.2)),
    UNKNOWN: (
        ("pinterest", "cpm", 0.5),
        ("partner_site", "display", 0.3),
        ("qr_code", "print", 0.2),
    ),
}
PAIR_SOURCE: list[str] = []
PAIR_MEDIUM: list[str] = []
CH_PAIRS: dict[int, tuple[np.ndarray, np.ndarray]] = {}
for _ch, _pairs in UTM_PAIRS.items():
    _idx = np.arange(len(PAIR_SOURCE), len(PAIR_SOURCE) + len(_pairs))
    _w = np.array([p[2] for p in _pairs])
    CH_PAIRS[_ch] = (_idx, _w / _w.sum())
    PAIR_SOURCE += [p[0] for p in _pairs]
    PAIR_MEDIUM += [p[1] for p in _pairs]

CAMPAIGNS = (
    "prospecting",
    "retargeting",
    "bfcm",
    "generic",
    "brand_kw",
    "newsletter",
    "welcome_flow",
    "replenish_flow",
    "winback",
    "creator_launch",
    "seeding",
    "raf",
    "cashback",
    "coupon",
    "misc",
)
CAMPAIGN_IDX = {c: i for i, c in enumerate(CAMPAIGNS)}
CH_CAMPAIGNS: dict[int, tuple[int, ...]] = {
    PAID_SOCIAL: (0, 1),
    PAID_SEARCH: (3, 4),
    EMAIL: (5, 6, 7),
    INFLUENCER: (9,),
    REFERRAL: (11,),
    AFFILIATE: (12, 13),
    UNKNOWN: (14,),
}

# Discount codes: (code, percent off the line total)
CODES: tuple[tuple[str, int], ...] = (
    ("WELCOME10", 10),
    ("SPRING20", 20),
    ("FRIEND20", 20),
    ("FLASH40", 40),
    ("DEAL40", 40),
    ("HALFPRICE50", 50),
    ("BLACKFRIDAY40", 40),
    ("CYBER50", 50),
    ("VIP10", 10),
    ("REFILL20", 20),
    ("COMEBACK20", 20),
    ("SAMPLE100", 100),
    ("CASHBACK10", 10),
)
CODE_PCT = np.array([c[1] for c in CODES], dtype=np.int64)
(
    C_WELCOME10,
    C_SPRING20,
    C_FRIEND20,
    C_FLASH40,
    C_DEAL40,
    C_HALF50,
    C_BF40,
    C_CYBER50,
    C_VIP10,
    C_REFILL20,
    C_COMEBACK20,
    C_SAMPLE100,
    C_CASHBACK10,
) = range(len(CODES))

# --------------------------------------------------------------------------------------
# Behaviour parameters (see docs/demo_store.md)
# --------------------------------------------------------------------------------------

BASE_REPEAT_P = 0.305  # P(customer ever makes a repeat order); ~30% repeat within 12 months
PROMO_REPEAT = 0.5  # promo-acquired (first order >= 40% off) vs full-price
BFCM_REPEAT = 0.6  # BF/CM-acquired vs others
COHORT_MONTH_REPEAT = {3: 1.25, 11: 0.80, 12: 0.90}  # calendar month of acquisition
PROMO_P_BASE, PROMO_P_AFFILIATE, PROMO_P_REFERRAL, PROMO_P_BFCM = 0.12, 0.40, 0.08, 0.60
FIRST_ORDER_SMALL_CODE_P = 0.30  # first orders with a 10% / 20% code
BFCM_ACQ_SPIKE = 3.5  # acquisition multiplier on BF..CM days
ANNUAL_GROWTH = 1.25
SEASON = {1: 1.0, 2: 0.92, 3: 1.0, 4: 0.95, 5: 0.9, 6: 0.8, 7: 0.72, 8: 0.77, 9: 0.9, 10: 1.0}
SEASON |= {11: 1.3, 12: 1.4}
WEEKDAY = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.1])
NEW_CUSTOMER_GROWTH_LAST3 = 1.07  # month over month, last three months of history
TWICE_A_YEAR_SLIDE_LAST3 = 0.82  # month over month, last three months of history
REACTIVATION_HAZARD = 0.012  # per month, customers with no order for 13+ months
REACTIVATION_GROWTH_LAST3 = 1.10  # month over month, last three months of history
REACTIVATION_FOLLOWUP_P = 0.35

SEG_REGULAR, SEG_HEAVY, SEG_TWICE = 0, 1, 2
TWICE_A_YEAR_SHARE = 0.15  # of repeat customers
HEAVY_SHARE_BY_CAT = np.array([0.55, 0.30, 0.18, 0.08, 0.35])  # of repeat customers, by cat
DROPOUT = np.array([0.20, 0.035, 0.10])  # after each repeat order, by segment

PURE_GUEST_SHARE = 0.08  # persons who never register (all orders guest checkouts)
REGISTERED_GUEST_CHECKOUT_P = 0.025  # registered customers' orders placed as guest
NO_ORDER_ACCOUNT_SHARE = 0.02  # registered accounts that never ordered
N_STAFF = 3  # staff accounts placing test orders
GIFT_P = 0.05
REFUND_P = 0.08
COUNTRIES = ("FR", "BE", "DE", "ES", "IT", "NL", "LU", "CH")
COUNTRY_P = np.array([0.55, 0.12, 0.10, 0.07, 0.06, 0.05, 0.02, 0.03])
REFUND_REASONS = ("damaged", "changed_mind", "wrong_item", "late_delivery", "not_as_described")
HOUR_WEIGHTS = np.array([2, 3, 4, 5, 5, 5, 6, 6, 5, 5, 6, 7, 8, 9, 8, 6, 4], dtype=float)

# Marketing spend: CAC targets (EUR excl. VAT per new customer of the resolved channel)
CAC = {
    PAID_SOCIAL: 35.0,
    PAID_SEARCH: 28.0,
    INFLUENCER: 36.0,
    AFFILIATE: 75.0,  # planted (issue 15): fine on revenue, never repaid on margin
    EMAIL: 12.0,
    REFERRAL: 10.0,
}
# Spend export rows per channel: (channel column, utm_source, utm_medium, campaign, share of
# the channel's daily spend, only in the last N days or None). Some exports name the channel,
# others give the UTM pair; paid_social has both forms in its last year.
SpendRow = tuple[str | None, str | None, str | None, str | None, float, int | None]
SPEND_ROWS: dict[int, tuple[SpendRow, ...]] = {
    PAID_SOCIAL: (
        (None, "facebook", "paid_social", "prospecting", 0.7, None),
        ("paid_social", None, None, "retargeting", 0.3, 365),
    ),
    PAID_SEARCH: ((None, "google", "cpc", None, 1.0, None),),
    INFLUENCER: (("influencer", None, None, None, 1.0, None),),
    AFFILIATE: (("affiliate", None, None, None, 1.0, None),),
    EMAIL: (("email", None, None, None, 1.0, None),),
    REFERRAL: ((None, "friendbuy", "referral", None, 1.0, None),),
}
BRAND_FEE_SHARE = 0.04  # monthly agency fee, share of the average monthly paid spend
BRAND_TV_SHARE = 0.06  # TV flights (Nov 10 - Dec 20, March), share of total paid spend

FIRST_NAMES = (
    "alice emma louise jade chloe lina mila rose anna julia lea manon sarah ines camille "
    "lucas hugo louis gabriel arthur jules adam raphael paul nathan tom leo noah ethan sacha"
).split()
LAST_NAMES = (
    "martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent "
    "lefebvre michel garcia david bertrand roux vincent fournier morel girard andre mercier "
    "dupont lambert bonnet francois martinez muller"
).split()
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.test", "inbox.test")

KIND_FIRST, KIND_REPEAT, KIND_WINBACK, KIND_ZERO, KIND_CANCEL, KIND_TEST, KIND_TIE = range(7)
ST_COMPLETED, ST_CANCELLED, ST_TEST = range(3)


# --------------------------------------------------------------------------------------
# Configuration and calendar
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Arguments of one generation."""

    customers: int
    seed: int
    end_date: date = DEFAULT_END_DATE

    @property
    def start_date(self) -> date:
        return history_start(self.end_date)


def history_start(end_date: date) -> date:
    """First day of the ~3-year history ending on ``end_date`` (36 months back)."""
    nxt = end_date + timedelta(days=1)
    year, month = nxt.year - HISTORY_MONTHS // 12, nxt.month
    for day in (nxt.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(end_date)


def _rng(seed: int, stage: str) -> np.random.Generator:
    """An independent stream per stage, so stages can change without shifting others."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode())])


def _last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def bfcm_window(year: int) -> tuple[date, date]:
    """Black Friday (day after the 4th Thursday of November) to Cyber Monday, inclusive."""
    nov1 = date(year, 11, 1)
    thanksgiving = date(year, 11, 1 + (3 - nov1.weekday()) % 7 + 21)
    return thanksgiving + timedelta(days=1), thanksgiving + timedelta(days=4)


@dataclass(frozen=True)
class Calendar:
    start: date
    n_days: int
    epoch_day: np.ndarray  # days since 1970-01-01 per day index
    month_idx: np.ndarray  # months since the start month
    cal_month: np.ndarray  # 1..12
    weekday: np.ndarray  # 0 = Monday
    utc_offset_h: np.ndarray  # Europe/Paris offset (1 or 2) at daytime
    bfcm: np.ndarray  # bool: BF..CM day
    month_first_day: np.ndarray  # day index of the first history day of each month
    month_days: np.ndarray  # calendar length of each month
    month_hist_days: np.ndarray  # history days in each month

    @property
    def n_months(self) -> int:
        return len(self.month_first_day)


def make_calendar(start: date, end: date) -> Calendar:
    n_days = (end - start).days + 1
    d64 = np.datetime64(start.isoformat(), "D") + np.arange(n_days)
    epoch_day = d64.astype(np.int64)
    months = d64.astype("datetime64[M]")
    month_idx = (months - months[0]).astype(np.int64)
    cal_month = (months.astype(np.int64) % 12 + 1).astype(np.int64)
    weekday = (epoch_day + 3) % 7
    offset = np.ones(n_days, dtype=np.int64)
    bfcm = np.zeros(n_days, dtype=bool)
    for year in range(start.year, end.year + 1):
        dst_on = (_last_sunday(year, 3) - start).days
        dst_off = (_last_sunday(year, 10) - start).days
        offset[max(dst_on, 0) : max(dst_off, 0)] = 2
        bf, cm = bfcm_window(year)
        lo, hi = (bf - start).days, (cm - start).days
        if hi >= 0 and lo < n_days:
            bfcm[max(lo, 0) : min(hi, n_days - 1) + 1] = True
    n_months = int(month_idx[-1]) + 1
    month_first_day = np.searchsorted(month_idx, np.arange(n_months))
    month_starts = months[month_first_day]
    month_days = (month_starts + 1).astype("datetime64[D]") - month_starts.astype("datetime64[D]")
    month_hist_days = np.bincount(month_idx, minlength=n_months)
    return Calendar(
        start=start,
        n_days=n_days,
        epoch_day=epoch_day,
        month_idx=month_idx,
        cal_month=cal_month,
        weekday=weekday,
        utc_offset_h=offset,
        bfcm=bfcm,
        month_first_day=month_first_day,
        month_days=month_days.astype(np.int64),
        month_hist_days=month_hist_days,
    )


def acquisition_weights(cal: Calendar) -> np.ndarray:
    """Relative daily volume of new customers: trend x season x weekday x BF/CM spike.

    The last three months are rescaled so that new customers grow
    ``NEW_CUSTOMER_GROWTH_LAST3`` month over month (full-month equivalents).
    """
    t_years = np.arange(cal.n_days) / 365.25
    season = np.array([SEASON[m] for m in range(1, 13)])[cal.cal_month - 1]
    base = np.exp(np.log(ANNUAL_GROWTH) * t_years) * season * WEEKDAY[cal.weekday]
    last = cal.n_months - 1
    for m in range(max(last - 2, 1), last + 1):
        prev = cal.month_idx == m - 1
        cur = cal.month_idx == m
        prev_total = base[prev].mean() * cal.month_days[m - 1]
        target_per_day = prev_total * NEW_CUSTOMER_GROWTH_LAST3 / cal.month_days[m]
        base[cur] *= target_per_day / base[cur].mean()
    return base * np.where(cal.bfcm, BFCM_ACQ_SPIKE, 1.0)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _choice_by_group(
    rng: np.random.Generator, groups: np.ndarray, table: dict[int, tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """For each row, draw an option among ``table[group]`` (values, probabilities); -1 if none."""
    out = np.full(len(groups), -1, dtype=np.int64)
    for g, (values, probs) in table.items():
        mask = groups == g
        k = int(mask.sum())
        if k:
            out[mask] = values[np.searchsorted(np.cumsum(probs), rng.random(k) * probs.sum())]
    return out


def _categorical(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    cum = np.cumsum(probs)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], side="right"), len(cum) - 1)


def _rake(
    n: int, target: float, factors: list[tuple[np.ndarray, np.ndarray]], iters: int = 10
) -> np.ndarray:
    """Per-customer probabilities whose level means match ``target * weight / mean weight``.

    Iterative proportional fitting on a multiplicative model, so each factor's marginal
    ratio (e.g. referral vs average) holds in the generated population, whatever the
    correlation between factors (promo-heavy affiliate, BF/CM in November, ...).
    """
    p = np.full(n, target)
    for _ in range(iters):
        for codes, weights in factors:
            k = len(weights)
            cnt = np.bincount(codes, minlength=k)
            tot = np.bincount(codes, weights=p, minlength=k)
            present = cnt > 0
            norm = float(np.sum(cnt[present] * weights[present]) / n)
            level_target = target * weights / norm
            ratio = np.ones(k)
            ratio[present] = level_target[present] / np.maximum(tot[present] / cnt[present], 1e-9)
            p *= ratio[codes]
            np.clip(p, 0.003, 0.97, out=p)
    return p


def _allocate_days(
    rng: np.random.Generator, cal: Calendar, weights: np.ndarray, n: int
) -> np.ndarray:
    """Sorted day index of ``n`` events: month totals by largest remainder (so month-over-month
    growth is exact), days within a month drawn by weight."""
    month_w = np.bincount(cal.month_idx, weights=weights, minlength=cal.n_months)
    exact = n * month_w / month_w.sum()
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    days = []
    for m in range(cal.n_months):
        lo, hi = cal.month_first_day[m], cal.month_first_day[m] + cal.month_hist_days[m]
        w = weights[lo:hi]
        per_day = rng.multinomial(counts[m], w / w.sum())
        days.append(np.repeat(np.arange(lo, hi), per_day))
    return np.concatenate(days)


def _sec_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    hour = 7 + _categorical(rng, HOUR_WEIGHTS, size)
    return hour * 3600 + rng.integers(0, 3600, size)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(
        pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0"
    )
    return pc.binary_join_element_wise(prefix, digits, "")


def _take_str(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """Strings by index; -1 gives null."""
    return pc.take(pa.array(list(values), pa.string()), pa.array(idx, pa.int64(), mask=idx < 0))


def _format_ts(utc_sec: np.ndarray, offset_h: np.ndarray, offset_mask: np.ndarray) -> pa.Array:
    """ISO-8601 strings: UTC with 'Z', or Paris wall-clock with its offset where masked."""
    out = pc.strftime(pa.array(utc_sec.astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%SZ")
    if offset_mask.any():
        local = utc_sec[offset_mask] + offset_h[offset_mask] * 3600
        txt = pc.strftime(pa.array(local.astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%S")
        suffix = np.where(offset_h[offset_mask] == 2, "+02:00", "+01:00")
        txt = pc.binary_join_element_wise(txt, pa.array(suffix), "")
        out = pc.replace_with_mask(out, pa.array(offset_mask), txt)
    return out


def _ts_array(utc_sec: np.ndarray) -> pa.Array:
    return pa.array(utc_sec.astype("datetime64[s]").astype("datetime64[us]"), pa.timestamp("us"))


def _money(cents: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(cents / 100.0, pa.float64(), mask=mask)


def _bool_array(values: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(bool), pa.bool_(), mask=null_mask)


def _group_starts(sorted_keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and size of each group in an array sorted by group key."""
    counts = np.bincount(sorted_keys, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return starts, counts


def person_emails(index: np.ndarray, tag: str = "") -> pa.Array:
    """Canonical (lower-case) unique email per person index."""
    first = pc.take(pa.array(FIRST_NAMES), pa.array(index % len(FIRST_NAMES)))
    last = pc.take(pa.array(LAST_NAMES), pa.array((index // len(FIRST_NAMES)) % len(LAST_NAMES)))
    dom = pc.take(pa.array(EMAIL_DOMAINS), pa.array((index * 7 + 3) % len(EMAIL_DOMAINS)))
    num = pc.cast(pa.array(index, pa.int64()), pa.string())
    return pc.binary_join_element_wise(first, ".", last, tag + "", num, "@", dom, "")


def email_variants(emails: pa.Array, variant: np.ndarray) -> pa.Array:
    """Same address, different case / surrounding whitespace (variant 0..3)."""
    title = pc.utf8_title(emails)
    upper = pc.utf8_upper(emails)
    spaced_title = pc.binary_join_element_wise(" ", title, "")
    spaced = pc.binary_join_element_wise(" ", emails, " ", "")
    v = pa.array(variant)
    out = pc.if_else(pc.equal(v, 0), upper, title)
    out = pc.if_else(pc.equal(v, 2), spaced_title, out)
    return pc.if_else(pc.equal(v, 3), spaced, out)


def utm_variants(values: pa.Array, variant: np.ndarray) -> pa.Array:
    """Mixed case and surrounding spaces, e.g. ' Facebook ', 'GOOGLE', 'Email '."""
    title = pc.utf8_capitalize(values)
    v = pa.array(variant)
    out = pc.if_else(pc.equal(v, 0), pc.binary_join_element_wise(" ", title, " ", ""), title)
    out = pc.if_else(pc.equal(v, 1), pc.utf8_upper(values), out)
    return pc.if_else(pc.equal(v, 2), pc.binary_join_element_wise(title, " ", ""), out)


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------


@dataclass
class Store:
    """The generated tables (typed Arrow) plus CSV renderings of the timestamp columns."""

    tables: dict[str, pa.Table]
    csv_overrides: dict[str, dict[str, pa.Array]] = field(default_factory=dict)
    truth: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _Orders:
    """Orders in generation order (before sorting by time)."""

    person: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    ch: np.ndarray
    code: np.ndarray
    home: np.ndarray
    sec: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.person)


def _concat_orders(parts: list[_Orders]) -> _Orders:
    cols = ("person", "day", "kind", "ch", "code", "home")
    out = _Orders(**{c: np.concatenate([getattr(p, c) for p in parts]) for c in cols})
    if all(p.sec is not None for p in parts):
        out.sec = np.concatenate([p.sec for p in parts])
    return out


@dataclass
class _Customers:
    """Latent traits of the n buying customers (persons 0..n-1).

    Persons n..n+N_STAFF-1 are staff accounts (test orders), person n+N_STAFF is the test
    guest email; registered accounts without orders come after them.
    """

    acq_day: np.ndarray
    channel: np.ndarray
    first_cat: np.ndarray
    bfcm: np.ndarray
    promo: np.ndarray
    p_rep: np.ndarray
    is_rep: np.ndarray
    segment: np.ndarray
    pure_guest: np.ndarray
    country: np.ndarray

    @property
    def n(self) -> int:
        return len(self.acq_day)

    @property
    def n_persons(self) -> int:
        return self.n + N_STAFF + 1

    def heavy(self, person: np.ndarray) -> np.ndarray:
        return (person < self.n) & (self.segment[np.minimum(person, self.n - 1)] == SEG_HEAVY)


@dataclass
class _Identity:
    """How each order identifies its buyer."""

    reg_person: np.ndarray  # per person: has a registered account
    with_cid: np.ndarray  # per order: customer_id filled
    form: np.ndarray  # per order: email 0 canonical, 1 case/space variant, 2 empty
    variant: np.ndarray  # per order: which variant


@dataclass
class _Lines:
    """Order lines sorted by (order time, line number); ``order`` is the generation index."""

    order: np.ndarray
    prod: np.ndarray
    qty: np.ndarray
    gift: np.ndarray
    unit: np.ndarray
    disc: np.ndarray
    paid: np.ndarray
    tax_null: np.ndarray
    n_nongift: np.ndarray  # per order
    order_paid: np.ndarray  # per order, cents
    shipping: np.ndarray  # per order, cents


@dataclass
class _Refunds:
    """Refunds sorted by time; ``line`` indexes the sorted lines (-1: order-level)."""

    order: np.ndarray
    line: np.ndarray
    day: np.ndarray
    utc: np.ndarray
    amount: np.ndarray
    qty: np.ndarray
    reason: np.ndarray  # index into REFUND_REASONS + ("return_incl_shipping",)


@dataclass
class _Accounts:
    """The customers table: registered persons sorted by creation time."""

    person: np.ndarray
    created: np.ndarray
    cust_no: np.ndarray  # per person (incl. accounts without orders): number in the id, or -1
    country: np.ndarray  # per account: index into COUNTRIES, -1 empty
    n_noorder: int


def _draw_intervals(rng: np.random.Generator, seg: np.ndarray, first: bool) -> np.ndarray:
    x = np.empty(len(seg))
    for s in (SEG_REGULAR, SEG_HEAVY, SEG_TWICE):
        m = seg == s
        k = int(m.sum())
        if not k:
            continue
        if s == SEG_TWICE:
            x[m] = rng.normal(182.0, 12.0, k)
        elif s == SEG_HEAVY:
            x[m] = rng.gamma(2.0, 15.0, k) if first else rng.gamma(4.0, 8.0, k)
        else:
            x[m] = rng.gamma(1.2, 70.0, k) if first else rng.gamma(2.0, 55.0, k)
    return np.maximum(1, np.rint(x)).astype(np.int64)


def _discounts_first(
    rng: np.random.Generator, ch: np.ndarray, promo: np.ndarray, bfcm: np.ndarray
) -> np.ndarray:
    n = len(ch)
    u, v = rng.random(n), rng.random(n)
    code = np.full(n, -1, dtype=np.int64)
    code = np.where(promo, np.where(v < 0.6, C_FLASH40, C_HALF50), code)
    code = np.where(promo & (ch == AFFILIATE), np.where(v < 0.7, C_DEAL40, C_HALF50), code)
    code = np.where(promo & bfcm, np.where(v < 0.6, C_BF40, C_CYBER50), code)
    small = ~promo & (u < FIRST_ORDER_SMALL_CODE_P)
    small_code = np.where(v < 0.7, C_WELCOME10, C_SPRING20)
    small_code = np.where(ch == REFERRAL, C_FRIEND20, small_code)
    small_code = np.where(ch == AFFILIATE, C_CASHBACK10, small_code)
    return np.where(small, small_code, code)


def _discounts_repeat(rng: np.random.Generator, bfcm_day: np.ndarray) -> np.ndarray:
    n = len(bfcm_day)
    u, v = rng.random(n), rng.random(n)
    code = np.full(n, -1, dtype=np.int64)
    code = np.where(u < 0.15, np.where(v < 0.6, C_VIP10, C_REFILL20), code)
    code = np.where((u >= 0.15) & (u < 0.18), C_FLASH40, code)
    return np.where(bfcm_day & (u < 0.5), np.where(v < 0.6, C_BF40, C_CYBER50), code)


def _draw_customers(seed: int, cal: Calendar, weights: np.ndarray, n: int) -> _Customers:
    """Acquisition day, channel, first category, promo, and the latent repeat behaviour."""
    rng = _rng(seed, "persons")
    last_day = cal.n_days - 1
    acq_day = _allocate_days(rng, cal, weights, n)
    bfcm_days = np.flatnonzero(cal.bfcm)
    if not cal.bfcm[acq_day].any() and len(bfcm_days):
        acq_day[0] = bfcm_days[0]  # at least one BF/CM-acquired customer
        acq_day.sort()
    channel = _categorical(rng, ACQ_SHARE, n)
    first_cat = _categorical(rng, FIRST_CAT_SHARE, n)
    bfcm = cal.bfcm[acq_day]
    promo_p = np.full(n, PROMO_P_BASE)
    promo_p[channel == AFFILIATE] = PROMO_P_AFFILIATE
    promo_p[channel == REFERRAL] = PROMO_P_REFERRAL
    promo_p[bfcm] = PROMO_P_BFCM
    promo = rng.random(n) < promo_p
    if not promo.any():
        promo[n // 2] = True
    cohort_m = cal.cal_month[acq_day] - 1
    month_w = np.array([COHORT_MONTH_REPEAT.get(m, 1.0) for m in range(1, 13)])
    p_rep = _rake(
        n,
        BASE_REPEAT_P,
        [
            (channel, CHANNEL_REPEAT),
            (first_cat, FIRST_CAT_REPEAT),
            (promo.astype(np.int64), np.array([1.0, PROMO_REPEAT])),
            (bfcm.astype(np.int64), np.array([1.0, BFCM_REPEAT])),
            (cohort_m, month_w),
        ],
    )
    is_rep = rng.random(n) < p_rep
    u = rng.random(n)
    segment = np.where(
        u < TWICE_A_YEAR_SHARE,
        SEG_TWICE,
        np.where(u < TWICE_A_YEAR_SHARE + HEAVY_SHARE_BY_CAT[first_cat], SEG_HEAVY, SEG_REGULAR),
    )
    segment[~is_rep] = SEG_REGULAR
    pure_guest = rng.random(n) < PURE_GUEST_SHARE
    reps = np.flatnonzero(is_rep & (acq_day < last_day - 200))
    if len(reps) and not (pure_guest & is_rep).any():
        pure_guest[reps[0]] = True  # at least one guest who orders again
    country = _categorical(rng, COUNTRY_P, n)
    return _Customers(
        acq_day=acq_day,
        channel=channel,
        first_cat=first_cat,
        bfcm=bfcm,
        promo=promo,
        p_rep=p_rep,
        is_rep=is_rep,
        segment=segment,
        pure_guest=pure_guest,
        country=country,
    )


def _natural_orders(
    seed: int, cal: Calendar, cust: _Customers
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, day, order number) of first and repeat orders; the twice-a-year slide."""
    rng = _rng(seed, "repeats")
    n, last_day = cust.n, cal.n_days - 1
    o_person = [np.arange(n)]
    o_day = [cust.acq_day.astype(np.int64)]
    o_seq = [np.ones(n, dtype=np.int64)]
    active = np.flatnonzero(cust.is_rep)
    cur = cust.acq_day[active].astype(np.int64)
    seg = cust.segment[active]
    interval = _draw_intervals(rng, seg, first=True)
    k = 2
    while active.size:
        nd = cur + interval
        ok = nd <= last_day
        active, cur, seg = active[ok], nd[ok], seg[ok]
        o_person.append(active)
        o_day.append(cur)
        o_seq.append(np.full(active.size, k, dtype=np.int64))
        keep = rng.random(active.size) >= DROPOUT[seg]
        active, cur, seg = active[keep], cur[keep], seg[keep]
        interval = _draw_intervals(rng, seg, first=False)
        k += 1
    person = np.concatenate(o_person)
    day = np.concatenate(o_day)
    seq = np.concatenate(o_seq)

    # the twice-a-year group slides in the last three months
    rng = _rng(seed, "twice_slide")
    mo = cal.month_idx[day]
    last_m = cal.n_months - 1
    twice_rep = (cust.segment[person] == SEG_TWICE) & (seq >= 2)
    keep = np.ones(len(person), dtype=bool)
    if last_m >= 3:
        # full-month equivalents, as for new customers
        full = cal.month_days / cal.month_hist_days
        target = np.sum(twice_rep & (mo == last_m - 3)) * full[last_m - 3]
        for m in range(last_m - 2, last_m + 1):
            target *= TWICE_A_YEAR_SLIDE_LAST3
            sel = np.flatnonzero(twice_rep & (mo == m))
            rate = len(sel) * full[m]
            if rate > target > 0:
                keep[sel] = rng.random(len(sel)) < target / rate
    return person[keep], day[keep], seq[keep]


def _reactivations(
    seed: int, cal: Calendar, cust: _Customers, person: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Customers with no order for 13+ calendar months come back (hazard growing at the end).

    Returns (person, day, count of win-back orders); follow-up orders come after those.
    """
    rng = _rng(seed, "reactivation")
    last_day, last_m = cal.n_days - 1, cal.n_months - 1
    last_order = np.zeros(cust.n, dtype=np.int64)
    np.maximum.at(last_order, person, day)
    month_h = np.full(cal.n_months, REACTIVATION_HAZARD / 30.44)
    for i, m in enumerate(range(last_m - 2, last_m + 1), start=1):
        month_h[m] *= REACTIVATION_GROWTH_LAST3**i
    h = month_h[cal.month_idx]
    cum_h = np.cumsum(h)
    elig_m = cal.month_idx[last_order] + 13
    cand = np.flatnonzero(elig_m <= last_m)
    elig_day = cal.month_first_day[elig_m[cand]]
    tgt = cum_h[elig_day] - h[elig_day] + rng.exponential(1.0, len(cand))
    r_day = np.searchsorted(cum_h, tgt)
    ok = r_day <= last_day
    wb_person, wb_day = cand[ok], r_day[ok]
    fu = rng.random(len(wb_person)) < REACTIVATION_FOLLOWUP_P
    fu_day = wb_day + np.maximum(1, np.rint(rng.gamma(2.0, 30.0, len(wb_person)))).astype(np.int64)
    fu &= fu_day <= last_day
    return (
        np.concatenate([wb_person, wb_person[fu]]),
        np.concatenate([wb_day, fu_day[fu]]),
        len(wb_person),
    )


def _base_orders(
    seed: int,
    cal: Calendar,
    cust: _Customers,
    natural: tuple[np.ndarray, np.ndarray, np.ndarray],
    winback: tuple[np.ndarray, np.ndarray, int],
) -> _Orders:
    """Channel, discount code and time of day of first, repeat and win-back orders."""
    rng = _rng(seed, "order_attrs")
    person, day, seq = natural
    is_first = seq == 1
    kind = np.where(is_first, KIND_FIRST, KIND_REPEAT)
    ch = np.empty(len(person), dtype=np.int64)
    ch[is_first] = cust.channel[person[is_first]]
    u = rng.random(len(person))
    ch[is_first & (u < FIRST_ORDER_DIRECT)] = DIRECT
    unknown = (u >= FIRST_ORDER_DIRECT) & (u < FIRST_ORDER_DIRECT + FIRST_ORDER_UNKNOWN)
    ch[is_first & unknown] = UNKNOWN
    rep = ~is_first
    ch[rep] = _categorical(rng, REPEAT_CH_MIX, int(rep.sum()))
    code = np.full(len(person), -1, dtype=np.int64)
    fp = person[is_first]
    code[is_first] = _discounts_first(rng, cust.channel[fp], cust.promo[fp], cust.bfcm[fp])
    code[rep] = _discounts_repeat(rng, cal.bfcm[day[rep]])
    base = _Orders(person=person, day=day, kind=kind, ch=ch, code=code, home=cust.first_cat[person])
    wb_p, wb_d, n_wb_first = winback
    nwb = len(wb_p)
    wb_code = np.where(rng.random(nwb) < 0.5, C_COMEBACK20, -1)
    wb = _Orders(
        person=wb_p,
        day=wb_d,
        kind=np.full(nwb, KIND_WINBACK),
        ch=_categorical(rng, WINBACK_CH_MIX, nwb),
        code=np.where(np.arange(nwb) < n_wb_first, wb_code, -1),
        home=cust.first_cat[wb_p],
    )
    base = _concat_orders([base, wb])
    base.sec = _sec_of_day(rng, len(base))
    if not (base.ch == DIRECT).any():
        base.ch[np.flatnonzero(base.kind == KIND_REPEAT)[:1]] = DIRECT
    if not (base.ch == UNKNOWN).any():
        base.ch[np.flatnonzero(base.kind == KIND_REPEAT)[1:2]] = UNKNOWN
    return base


def _with_extra_orders(
    seed: int, cal: Calendar, cust: _Customers, base: _Orders
) -> tuple[_Orders, np.ndarray]:
    """Add free samples, cancelled, test and same-timestamp orders.

    Returns all orders and the indices of the orders that got a same-timestamp twin.
    """
    rng = _rng(seed, "extra_orders")
    n, nb = cust.n, len(base)
    acq_day = cust.acq_day
    n_zero = max(1, round(0.005 * nb))
    n_cancel = max(2, round(0.02 * nb))
    n_test = max(1, round(0.005 * nb))
    n_tie = max(1, round(0.0003 * nb))
    # free samples (every line 100% off); a quarter sent before the first purchase
    zp = rng.integers(0, n, n_zero)
    before = rng.random(n_zero) < 0.25
    zday = np.where(
        before,
        np.maximum(acq_day[zp] - rng.integers(1, 31, n_zero), 0),
        acq_day[zp] + np.floor(rng.random(n_zero) * (cal.n_days - acq_day[zp])).astype(np.int64),
    )
    zero = _Orders(
        person=zp,
        day=zday,
        kind=np.full(n_zero, KIND_ZERO),
        ch=np.where(rng.random(n_zero) < 0.5, DIRECT, INFLUENCER),
        code=np.where(rng.random(n_zero) < 0.6, C_SAMPLE100, -1),
        home=np.full(n_zero, SKINCARE),
    )
    zero.sec = _sec_of_day(rng, n_zero)
    # cancelled: 70% placed again minutes later (the twin), 30% standalone
    n_replaced = int(round(0.7 * n_cancel))
    tw = rng.choice(nb, n_replaced, replace=False) if n_replaced else np.zeros(0, np.int64)
    sp = rng.integers(0, n, n_cancel - n_replaced)
    sday = acq_day[sp] + np.floor(rng.random(len(sp)) * (cal.n_days - acq_day[sp])).astype(np.int64)
    cancel = _Orders(
        person=np.concatenate([base.person[tw], sp]),
        day=np.concatenate([base.day[tw], sday]),
        kind=np.full(n_cancel, KIND_CANCEL),
        ch=np.concatenate([base.ch[tw], _categorical(rng, REPEAT_CH_MIX, len(sp))]),
        code=np.concatenate([base.code[tw], np.full(len(sp), -1)]),
        home=np.concatenate([base.home[tw], cust.first_cat[sp]]),
    )
    cancel.sec = np.concatenate(
        [base.sec[tw] - rng.integers(300, 10800, len(tw)), _sec_of_day(rng, len(sp))]
    )
    # test orders by staff accounts and a test guest email
    staff = np.arange(n, n + N_STAFF)
    tp = np.where(rng.random(n_test) < 0.8, staff[rng.integers(0, N_STAFF, n_test)], n + N_STAFF)
    test = _Orders(
        person=tp,
        day=rng.integers(0, cal.n_days, n_test),
        kind=np.full(n_test, KIND_TEST),
        ch=np.full(n_test, DIRECT),
        code=np.full(n_test, -1),
        home=rng.integers(0, 5, n_test),
    )
    test.sec = _sec_of_day(rng, n_test)
    # two orders of one registered customer at the exact same timestamp
    registered = ~cust.pure_guest[base.person]
    tie_cand = np.flatnonzero(registered & (base.kind == KIND_REPEAT))
    if not len(tie_cand):
        tie_cand = np.flatnonzero(registered)
    tt = rng.choice(tie_cand, min(n_tie, len(tie_cand)), replace=False)
    tie = _Orders(
        person=base.person[tt],
        day=base.day[tt],
        kind=np.full(len(tt), KIND_TIE),
        ch=base.ch[tt],
        code=base.code[tt],
        home=base.home[tt],
        sec=base.sec[tt],
    )
    return _concat_orders([base, zero, cancel, test, tie]), tt


def _identities(seed: int, orders: _Orders, cust: _Customers, tie_twins: np.ndarray) -> _Identity:
    """Registered checkouts, guest checkouts (by email, some case/space variants), anonymous."""
    rng = _rng(seed, "identity")
    n, no, op, kind = cust.n, len(orders), orders.person, orders.kind
    is_pure_guest = np.concatenate([cust.pure_guest, np.zeros(N_STAFF, bool), [True]])
    reg_person = ~is_pure_guest
    buyer = op < n
    guest_checkout = reg_person[op] & (rng.random(no) < REGISTERED_GUEST_CHECKOUT_P)
    guest_checkout &= buyer & (kind != KIND_TIE)
    if not guest_checkout.any():
        cand = np.flatnonzero(reg_person[op] & buyer & (kind == KIND_REPEAT))
        if not len(cand):
            cand = np.flatnonzero(reg_person[op] & buyer)
        guest_checkout[cand[0]] = True
    guest_checkout[tie_twins] = False  # both orders of a same-timestamp pair carry the id
    with_cid = reg_person[op] & ~guest_checkout
    u = rng.random(no)
    form = np.zeros(no, dtype=np.int64)
    form[with_cid & (u < 0.05)] = 2
    form[guest_checkout & (u < 0.30)] = 1
    form[is_pure_guest[op] & buyer & (u < 0.25)] = 1
    variant = rng.integers(0, 4, no)
    orders_per_person = np.bincount(op, minlength=cust.n_persons)
    guest = is_pure_guest[op] & buyer
    pg_multi = np.flatnonzero(guest & (orders_per_person[op] >= 2))
    if len(pg_multi) and not (form[pg_multi] == 1).any():
        form[pg_multi[-1]] = 1
        variant[pg_multi[-1]] = 2
    # anonymous orders: neither customer id nor email (single-order guests)
    n_anon = max(1, round(0.001 * no))
    anon_cand = np.flatnonzero(guest & (orders_per_person[op] == 1))
    if not len(anon_cand):
        anon_cand = np.flatnonzero(guest)
    anon = rng.choice(anon_cand, min(n_anon, len(anon_cand)), replace=False)
    form[anon] = 2
    return _Identity(reg_person=reg_person, with_cid=with_cid, form=form, variant=variant)


def _order_lines(
    seed: int, orders: _Orders, pct: np.ndarray, pos: np.ndarray, cust: _Customers
) -> _Lines:
    """Lines: first orders in the home category, repeat orders mostly; gifts; amounts."""
    rng = _rng(seed, "lines")
    no, kind = len(orders), orders.kind
    n_nongift = np.where(
        kind == KIND_ZERO,
        1 + (rng.random(no) < 0.4),
        1 + np.minimum(rng.poisson(np.where(kind == KIND_FIRST, 1.5, 1.65)), 5),
    ).astype(np.int64)
    gift_ok = (kind != KIND_ZERO) & (kind != KIND_TEST)
    has_gift = gift_ok & (rng.random(no) < GIFT_P)
    if not has_gift.any():
        has_gift[np.flatnonzero(gift_ok)[0]] = True
    l_order = np.repeat(np.arange(no), n_nongift)
    nl = len(l_order)
    l_j = np.arange(nl) - np.repeat(np.cumsum(n_nongift) - n_nongift, n_nongift)
    lk = kind[l_order]
    q_home = np.where(cust.heavy(orders.person[l_order]), 0.85, 0.6)
    home_l = orders.home[l_order]
    l_cat = np.where(rng.random(nl) < q_home, home_l, _categorical(rng, CAT_POPULARITY, nl))
    l_cat = np.where(lk == KIND_FIRST, home_l, l_cat)
    l_cat = np.where(lk == KIND_TIE, home_l, l_cat)
    # distinct products within an order: consecutive products from a random start
    r_order = rng.random(no)
    start = np.floor(r_order[l_order] * CAT_SIZE[l_cat]).astype(np.int64)
    l_prod = CAT_START[l_cat] + (start + l_j) % CAT_SIZE[l_cat]
    zl = lk == KIND_ZERO
    sample = (np.floor(r_order[l_order[zl]] * 4).astype(np.int64) + l_j[zl]) % 4
    l_prod[zl] = SAMPLE_PRODUCTS[sample]
    uq = rng.random(nl)
    thr = QTY_THRESHOLDS[PRODUCT_CAT[l_prod]]
    l_qty = 1 + (uq < thr[:, 0]) + (uq < thr[:, 1]) + (uq < thr[:, 2])
    l_qty[zl] = 1
    g_order = np.flatnonzero(has_gift)
    g_prod = GIFT_PRODUCTS[rng.integers(0, len(GIFT_PRODUCTS), len(g_order))]
    l_order = np.concatenate([l_order, g_order])
    l_j = np.concatenate([l_j, n_nongift[g_order]])
    l_prod = np.concatenate([l_prod, g_prod])
    l_qty = np.concatenate([l_qty, np.ones(len(g_order), dtype=np.int64)])
    l_gift = np.concatenate([np.zeros(nl, bool), np.ones(len(g_order), bool)])
    line_sort = np.lexsort((l_j, pos[l_order]))
    l_order, l_prod = l_order[line_sort], l_prod[line_sort]
    l_qty, l_gift = l_qty[line_sort].astype(np.int64), l_gift[line_sort]
    unit = PRODUCT_PRICE[l_prod]
    gross = unit * l_qty
    disc = (gross * pct[l_order] + 99) // 100  # ceil: a 40% code is never below 40%
    disc = np.where(l_gift, gross, disc)
    paid = gross - disc
    tax_null = (PRODUCT_CAT[l_prod] != FOOD) & (rng.random(len(l_order)) < 0.01)
    order_paid = np.bincount(l_order, weights=paid, minlength=no).astype(np.int64)
    return _Lines(
        order=l_order,
        prod=l_prod,
        qty=l_qty,
        gift=l_gift,
        unit=unit,
        disc=disc,
        paid=paid,
        tax_null=tax_null,
        n_nongift=n_nongift,
        order_paid=order_paid,
        shipping=np.where((order_paid > 0) & (order_paid < 4900), 490, 0),
    )


def _shipping_cost(
    line_order: np.ndarray, qty: np.ndarray, n_orders: int, shipped: np.ndarray
) -> np.ndarray:
    """Carrier cost per order in cents excl. VAT: a base plus a little per extra unit;
    0 for orders never shipped (cancelled, test)."""
    units = np.bincount(line_order, weights=qty, minlength=n_orders).astype(np.int64)
    cost = SHIPPING_COST_BASE + SHIPPING_COST_PER_UNIT * np.clip(units - 1, 0, 5)
    return np.where(shipped, cost, 0)


def _refunds(
    seed: int,
    cal: Calendar,
    orders: _Orders,
    status: np.ndarray,
    lines: _Lines,
    pos: np.ndarray,
) -> _Refunds:
    """Refunds 3-45 days after ~8% of paid orders: line, order-level and line + shipping."""
    rng = _rng(seed, "refunds")
    no, last_day = len(orders), cal.n_days - 1
    starts_pos, _ = _group_starts(pos[lines.order], no)
    l_start = starts_pos[pos]  # first sorted line of each order (generation index)
    n_ng, paid, l_qty, shipping = lines.n_nongift, lines.paid, lines.qty, lines.shipping
    eligible = (status == ST_COMPLETED) & (lines.order_paid > 0)
    refunded = eligible & (rng.random(no) < REFUND_P)
    ro = np.flatnonzero(refunded)
    u = rng.random(len(ro))
    rtype = np.where(u < 0.33, 0, np.where(u < 0.99, 1, 2))  # 0 order, 1 line, 2 line+shipping
    rtype[(rtype == 2) & (shipping[ro] == 0)] = 1
    r_day = orders.day[ro] + rng.integers(3, 46, len(ro))
    ok = r_day <= last_day  # no refund after the end of the history
    ro, rtype, r_day = ro[ok], rtype[ok], r_day[ok]
    # at least one of each type, on orders old enough
    old = np.flatnonzero(eligible & (orders.day <= last_day - 46) & ~refunded)
    forced = []
    for t in (0, 1, 2):
        if not (rtype == t).any():
            pool = old[shipping[old] > 0] if t == 2 else old
            if len(pool):
                forced.append((pool[len(forced) * 7 % len(pool)], t))
    if forced:
        fo = np.array([f[0] for f in forced])
        ro = np.concatenate([ro, fo])
        rtype = np.concatenate([rtype, [f[1] for f in forced]])
        r_day = np.concatenate([r_day, orders.day[fo] + rng.integers(3, 46, len(fo))])
    jline = np.floor(rng.random(len(ro)) * n_ng[ro]).astype(np.int64)
    line_idx = l_start[ro] + jline
    lpaid = paid[line_idx]
    lqty = l_qty[line_idx]
    rq = 1 + np.floor(rng.random(len(ro)) * lqty).astype(np.int64)
    goodwill = (rtype == 1) & (rng.random(len(ro)) < 0.15)
    amount = np.where(rtype == 1, lpaid * rq // lqty, 0)
    amount = np.where(goodwill, np.rint(lpaid * rng.uniform(0.2, 0.5, len(ro))), amount)
    amount = np.where(rtype == 2, lpaid + shipping[ro], amount)
    amount = np.where(rtype == 0, lines.order_paid[ro], amount).astype(np.int64)
    r_line = np.where(rtype == 0, -1, line_idx)
    r_qty = np.where(rtype == 0, -1, np.where(rtype == 2, lqty, rq))
    r_qty[goodwill] = -1
    reason = rng.integers(0, len(REFUND_REASONS), len(ro))
    reason_txt = np.where(rtype == 2, len(REFUND_REASONS), reason)
    # a second line refund on 10% of partially refunded orders with 2+ lines
    second = (rtype == 1) & (n_ng[ro] >= 2) & (rng.random(len(ro)) < 0.10)
    s_idx = np.flatnonzero(second)
    s_line = l_start[ro[s_idx]] + (jline[s_idx] + 1) % n_ng[ro[s_idx]]
    s_day = np.minimum(r_day[s_idx] + rng.integers(0, 11, len(s_idx)), last_day)
    ro = np.concatenate([ro, ro[s_idx]])
    r_day = np.concatenate([r_day, s_day])
    r_line = np.concatenate([r_line, s_line])
    amount = np.concatenate([amount, paid[s_line]])
    r_qty = np.concatenate([r_qty, l_qty[s_line]])
    reason_txt = np.concatenate([reason_txt, reason[s_idx]])
    r_sec = 8 * 3600 + rng.integers(0, 12 * 3600, len(ro))
    r_utc = cal.epoch_day[r_day] * 86400 + r_sec - cal.utc_offset_h[r_day] * 3600
    s = np.lexsort((np.arange(len(ro)), r_utc))
    return _Refunds(
        order=ro[s],
        line=r_line[s],
        day=r_day[s],
        utc=r_utc[s],
        amount=amount[s],
        qty=r_qty[s],
        reason=reason_txt[s],
    )


def _accounts(
    seed: int,
    cal: Calendar,
    cust: _Customers,
    orders: _Orders,
    utc: np.ndarray,
    ident: _Identity,
) -> _Accounts:
    """Registered accounts: created just before the first registered order (10%: weeks
    before; after the last order when every order was a guest checkout), plus accounts
    that never ordered."""
    rng = _rng(seed, "customers")
    n, n_persons, op = cust.n, cust.n_persons, orders.person
    with_cid = ident.with_cid
    never = np.iinfo(np.int64).max
    first_reg = np.full(n_persons, never)
    np.minimum.at(first_reg, op[with_cid], utc[with_cid])
    last_any = np.full(n_persons, -1, dtype=np.int64)
    np.maximum.at(last_any, op, utc)
    reg_idx = np.flatnonzero(ident.reg_person)
    n_noorder = max(1, round(NO_ORDER_ACCOUNT_SHARE * n))
    end_utc = (cal.epoch_day[-1] + 1) * 86400 - 3 * 3600
    # any time in the history: accounts without orders (and staff without test orders)
    anytime = (
        cal.epoch_day[rng.integers(0, cal.n_days, len(reg_idx) + n_noorder)] * 86400
        + _sec_of_day(rng, len(reg_idx) + n_noorder)
        - 3600
    )
    created = np.where(
        first_reg[reg_idx] < never,
        first_reg[reg_idx] - rng.integers(60, 1200, len(reg_idx)),
        np.minimum(last_any[reg_idx] + rng.integers(3600, 86400, len(reg_idx)), end_utc),
    )
    created = np.where(last_any[reg_idx] < 0, anytime[: len(reg_idx)], created)
    early = rng.random(len(reg_idx)) < 0.10
    created = np.where(early, created - rng.integers(1, 61, len(reg_idx)) * 86400, created)
    person = np.concatenate([reg_idx, np.arange(n_persons, n_persons + n_noorder)])
    created = np.concatenate([created, anytime[len(reg_idx) :]])
    s = np.lexsort((person, created))
    person, created = person[s], created[s]
    cust_no = np.full(n_persons + n_noorder, -1, dtype=np.int64)
    cust_no[person] = np.arange(1, len(person) + 1)
    all_country = np.concatenate(
        [cust.country, np.zeros(N_STAFF + 1, np.int64), _categorical(rng, COUNTRY_P, n_noorder)]
    )
    country_null = rng.random(len(person)) < 0.01
    return _Accounts(
        person=person,
        created=created,
        cust_no=cust_no,
        country=np.where(country_null, -1, all_country[person]),
        n_noorder=n_noorder,
    )


def _person_emails(cust: _Customers, n_noorder: int) -> pa.Array:
    """Canonical email per person index (buyers, staff, test guest, accounts w/o orders)."""
    n, n_persons = cust.n, cust.n_persons
    emails = person_emails(np.arange(n_persons + n_noorder))
    staff = pa.array([f"qa.staff{i + 1}@brand.test" for i in range(N_STAFF)])
    return pa.concat_arrays(
        [emails.slice(0, n), staff, pa.array(["test@brand.test"]), emails.slice(n_persons)]
    )


def _messy(values: pa.Array, mask: np.ndarray, variant: np.ndarray) -> pa.Array:
    """Mixed case / surrounding spaces on the masked UTM values."""
    if not mask.any():
        return values
    dirty = utm_variants(pc.filter(values, pa.array(mask)), variant[mask])
    return pc.replace_with_mask(values, pa.array(mask), dirty)


def build_store(cfg: Config, progress: Callable[[str], None] | None = None) -> Store:
    """Generate the whole store in memory (one independent random stream per stage)."""
    step = progress or (lambda _name: None)
    n, seed = cfg.customers, cfg.seed
    if n < 1:
        raise ValueError("--customers must be >= 1")
    cal = make_calendar(cfg.start_date, cfg.end_date)
    weights = acquisition_weights(cal)
    cust = _draw_customers(seed, cal, weights, n)
    step("customers")
    natural = _natural_orders(seed, cal, cust)
    winback = _reactivations(seed, cal, cust, natural[0], natural[1])
    step("repeat purchases")
    base = _base_orders(seed, cal, cust, natural, winback)
    orders, tie_twins = _with_extra_orders(seed, cal, cust, base)
    kind = orders.kind
    status = np.where(
        kind == KIND_CANCEL, ST_CANCELLED, np.where(kind == KIND_TEST, ST_TEST, ST_COMPLETED)
    )
    code = orders.code
    pct = np.where(code >= 0, CODE_PCT[np.maximum(code, 0)], 0)
    pct[kind == KIND_ZERO] = 100
    step("orders")
    ident = _identities(seed, orders, cust, tie_twins)
    step("identities")
    no = len(orders)
    utc = cal.epoch_day[orders.day] * 86400 + orders.sec - cal.utc_offset_h[orders.day] * 3600
    so = np.lexsort((np.arange(no), utc))  # generation index of each output row
    pos = np.empty(no, dtype=np.int64)
    pos[so] = np.arange(no)
    lines = _order_lines(seed, orders, pct, pos, cust)
    step("order lines")
    refunds = _refunds(seed, cal, orders, status, lines, pos)
    step("refunds")
    accounts = _accounts(seed, cal, cust, orders, utc, ident)
    emails = _person_emails(cust, accounts.n_noorder)
    step("accounts")

    # ---------------------------------------------------------------- orders table
    rng = _rng(seed, "columns")
    s_person, s_kind, s_ch = orders.person[so], kind[so], orders.ch[so]
    s_day = orders.day[so]
    s_form = ident.form[so]
    o_email = pc.take(emails, pa.array(s_person))
    vmask = s_form == 1
    if vmask.any():
        variants = email_variants(pc.filter(o_email, pa.array(vmask)), ident.variant[so][vmask])
        o_email = pc.replace_with_mask(o_email, pa.array(vmask), variants)
    o_email = pc.if_else(pa.array(s_form == 2), pa.scalar(None, pa.string()), o_email)
    cid_num = np.where(ident.with_cid[so], accounts.cust_no[s_person], -1)
    cust_ids = _ids("C", np.maximum(cid_num, 0), 8)
    cust_ids = pc.if_else(pa.array(cid_num < 0), pa.scalar(None, pa.string()), cust_ids)
    pair = _choice_by_group(rng, s_ch, CH_PAIRS)
    camp_table = {c: (np.array(v), np.full(len(v), 1.0 / len(v))) for c, v in CH_CAMPAIGNS.items()}
    camp = _choice_by_group(rng, s_ch, camp_table)
    camp[(s_ch == PAID_SOCIAL) & cal.bfcm[s_day]] = CAMPAIGN_IDX["bfcm"]
    camp[(s_kind == KIND_WINBACK) & (s_ch == EMAIL)] = CAMPAIGN_IDX["winback"]
    camp[(s_kind == KIND_ZERO) & (s_ch == INFLUENCER)] = CAMPAIGN_IDX["seeding"]
    messy = (pair >= 0) & (rng.random(no) < 0.03)
    messy[np.flatnonzero(pair >= 0)[:1]] = True
    mv = rng.integers(0, 3, no)
    pick = rng.random(no)
    src = _messy(_take_str(PAIR_SOURCE, pair), messy & (pick < 0.7), mv)
    med = _messy(_take_str(PAIR_MEDIUM, pair), messy & ((pick >= 0.7) | (pick < 0.2)), mv)
    s_status = status[so]
    status_null = (s_status == ST_COMPLETED) & (rng.random(no) < 0.05)
    status_txt = _take_str(("completed", "cancelled", "test"), np.where(status_null, -1, s_status))
    ptype = np.where(cust.heavy(s_person) & (s_kind == KIND_REPEAT), 1, 0)  # subscriptions
    ptype[rng.random(no) < 0.03] = -1
    s_offset = cal.utc_offset_h[s_day]
    offset_mask = rng.random(no) < 0.05
    offset_mask[np.flatnonzero(s_offset == 1)[:1]] = True
    offset_mask[np.flatnonzero(s_offset == 2)[:1]] = True
    pit_null = rng.random(no) < 0.03
    pit_null[0] = True
    currency_null = rng.random(no) < 0.02
    order_ids = _ids("O", np.arange(1, no + 1), 9)
    s_utc = utc[so]
    ship_cost = _shipping_cost(
        lines.order, lines.qty, no, (kind != KIND_CANCEL) & (kind != KIND_TEST)
    )
    orders_tbl = pa.table(
        {
            "order_id": order_ids,
            "customer_id": cust_ids,
            "customer_email": o_email,
            "ordered_at": _ts_array(s_utc),
            "status": status_txt,
            "currency": pa.array(np.where(currency_null, None, "EUR"), pa.string()),
            "prices_include_tax": _bool_array(np.ones(no, bool), pit_null),
            "shipping_amount": _money(lines.shipping[so]),
            "utm_source": src,
            "utm_medium": med,
            "utm_campaign": _take_str(CAMPAIGNS, camp),
            "discount_code": _take_str([c[0] for c in CODES], code[so]),
            "purchase_type": _take_str(("one_time", "subscription"), ptype),
            "shipping_cost": _money(ship_cost[so]),
        }
    )

    # ---------------------------------------------------------------- other tables
    line_ids = _ids("L", np.arange(1, len(lines.order) + 1), 10)
    lines_tbl = pa.table(
        {
            "order_line_id": line_ids,
            "order_id": pc.take(order_ids, pa.array(pos[lines.order])),
            "product_id": _take_str([p[0] for p in PRODUCTS], lines.prod),
            "quantity": pa.array(lines.qty, pa.int32()),
            "unit_price": _money(lines.unit),
            "discount_amount": _money(lines.disc),
            "tax_rate": pa.array(
                np.where(PRODUCT_CAT[lines.prod] == FOOD, VAT_FOOD, VAT_STANDARD),
                pa.float64(),
                mask=lines.tax_null,
            ),
            "is_gift": _bool_array(lines.gift),
            # cost at the time of sale: only the last LINE_COST_DAYS days' lines carry it
            "unit_cost": _money(
                PRODUCT_COST[lines.prod],
                orders.day[lines.order] < cal.n_days - LINE_COST_DAYS,
            ),
        }
    )
    nr, r_line = len(refunds.order), refunds.line
    refunds_tbl = pa.table(
        {
            "refund_id": _ids("R", np.arange(1, nr + 1), 9),
            "order_id": pc.take(order_ids, pa.array(pos[refunds.order])),
            "order_line_id": pc.take(line_ids, pa.array(np.maximum(r_line, 0), mask=r_line < 0)),
            "refunded_at": _ts_array(refunds.utc),
            "amount": _money(refunds.amount),
            "quantity": pa.array(refunds.qty, pa.int32(), mask=refunds.qty < 0),
            "reason": _take_str((*REFUND_REASONS, "return_incl_shipping"), refunds.reason),
        }
    )
    customers_tbl = pa.table(
        {
            "customer_id": _ids("C", np.arange(1, len(accounts.person) + 1), 8),
            "created_at": _ts_array(accounts.created),
            "email": pc.take(emails, pa.array(accounts.person)),
            "country": _take_str(COUNTRIES, accounts.country),
        }
    )
    products_tbl = pa.table(
        {
            "product_id": pa.array([p[0] for p in PRODUCTS]),
            "product_name": pa.array([p[1] for p in PRODUCTS]),
            "category": pa.array([CATEGORIES[p[2]] for p in PRODUCTS]),
            "unit_cost": _money(PRODUCT_COST, np.arange(len(PRODUCTS)) == UNKNOWN_COST_PRODUCT),
        }
    )
    # new customers per resolved first-order channel (calibrates spend to the CAC targets)
    new_by_ch = np.bincount(orders.ch[kind == KIND_FIRST], minlength=len(CHANNELS))
    spend_tbl = _marketing_spend(_rng(seed, "spend"), cal, weights, n, new_by_ch)
    step("tables")

    r_offset_mask = rng.random(nr) < 0.05
    n_acc = len(accounts.created)
    csv_overrides = {
        "orders": {"ordered_at": _format_ts(s_utc, s_offset, offset_mask)},
        "refunds": {
            "refunded_at": _format_ts(refunds.utc, cal.utc_offset_h[refunds.day], r_offset_mask)
        },
        "customers": {
            "created_at": _format_ts(
                accounts.created, np.ones(n_acc, np.int64), np.zeros(n_acc, bool)
            )
        },
    }
    truth = {
        "acq_day": cust.acq_day,
        "channel": cust.channel,
        "first_cat": cust.first_cat,
        "promo": cust.promo,
        "bfcm": cust.bfcm,
        "segment": cust.segment,
        "is_rep": cust.is_rep,
        "p_rep": cust.p_rep,
        "pure_guest": cust.pure_guest,
        "order_person": s_person,  # per output order row; >= customers: staff / test guest
        "order_kind": s_kind,
    }
    return Store(
        tables={
            "orders": orders_tbl,
            "order_lines": lines_tbl,
            "refunds": refunds_tbl,
            "customers": customers_tbl,
            "products": products_tbl,
            "marketing_spend": spend_tbl,
        },
        csv_overrides=csv_overrides,
        truth=truth,
    )


def _marketing_spend(
    rng: np.random.Generator, cal: Calendar, weights: np.ndarray, n: int, new_by_ch: np.ndarray
) -> pa.Table:
    """Daily spend per paid channel following expected acquisitions, calibrated to CAC."""
    p_day = weights / weights.sum()
    dates: list[np.ndarray] = []
    chan: list[np.ndarray] = []
    srcs: list[np.ndarray] = []
    meds: list[np.ndarray] = []
    camps: list[np.ndarray] = []
    amounts: list[np.ndarray] = []
    days = np.arange(cal.n_days)
    total_paid = 0.0
    for c, rows in SPEND_ROWS.items():
        expected = n * p_day * ACQ_SHARE[c]
        daily = expected * rng.lognormal(0.0, 0.15, cal.n_days)
        daily *= CAC[c] * max(int(new_by_ch[c]), 1) / daily.sum()
        total_paid += float(daily.sum())
        active = [days >= cal.n_days - r[5] if r[5] else days >= 0 for r in rows]
        share_sum = sum(np.where(a, r[4], 0.0) for a, r in zip(active, rows, strict=True))
        for (chan_col, s, m, camp, share, _), act in zip(rows, active, strict=True):
            amt = np.rint(daily[act] * share / share_sum[act] * 100).astype(np.int64)
            k = len(amt)
            dates.append(days[act])
            chan.append(np.full(k, -1 if chan_col is None else CHANNELS.index(chan_col)))
            srcs.append(np.full(k, -1 if s is None else PAIR_SOURCE.index(s)))
            meds.append(np.full(k, -1 if m is None else PAIR_MEDIUM.index(m)))
            camps.append(np.full(k, -1 if camp is None else SPEND_CAMPAIGNS.index(camp)))
            amounts.append(amt)
    # brand: monthly agency fee on the 1st, TV flights in March and Nov 10 - Dec 20
    fee_days = cal.month_first_day
    fee = total_paid / cal.n_months * BRAND_FEE_SHARE
    dd = cal.epoch_day.astype("datetime64[D]").astype(object)
    tv = np.array(
        [
            (d.month == 3) or (d.month == 11 and d.day >= 10) or (d.month == 12 and d.day <= 20)
            for d in dd
        ]
    )
    tv_days = np.flatnonzero(tv)
    brand_days = np.concatenate([fee_days, tv_days])
    brand_amt = np.concatenate(
        [
            np.full(len(fee_days), fee),
            np.full(len(tv_days), total_paid * BRAND_TV_SHARE / max(len(tv_days), 1))
            * rng.lognormal(0.0, 0.1, len(tv_days)),
        ]
    )
    brand_camp = np.concatenate(
        [
            np.full(len(fee_days), SPEND_CAMPAIGNS.index("agency_fee")),
            np.full(len(tv_days), SPEND_CAMPAIGNS.index("tv")),
        ]
    )
    dates.append(brand_days)
    chan.append(np.full(len(brand_days), len(CHANNELS)))  # 'brand'
    srcs.append(np.full(len(brand_days), -1))
    meds.append(np.full(len(brand_days), -1))
    camps.append(brand_camp)
    amounts.append(np.rint(brand_amt * 100).astype(np.int64))
    d = np.concatenate(dates)
    order = np.lexsort((np.arange(len(d)), d))
    d = d[order]
    cur_null = rng.random(len(d)) < 0.03
    return pa.table(
        {
            "spend_date": pa.array(cal.epoch_day[d].astype("datetime64[D]"), pa.date32()),
            "channel": _take_str((*CHANNELS, "brand"), np.concatenate(chan)[order]),
            "utm_source": _take_str(PAIR_SOURCE, np.concatenate(srcs)[order]),
            "utm_medium": _take_str(PAIR_MEDIUM, np.concatenate(meds)[order]),
            "campaign": _take_str(SPEND_CAMPAIGNS, np.concatenate(camps)[order]),
            "amount": _money(np.concatenate(amounts)[order]),
            "currency": pa.array(np.where(cur_null, None, "EUR"), pa.string()),
        }
    )


SPEND_CAMPAIGNS = ("prospecting", "retargeting", "agency_fee", "tv")


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _csv_view(tbl: pa.Table, overrides: dict[str, pa.Array]) -> pa.Table:
    for name, arr in overrides.items():
        tbl = tbl.set_column(tbl.column_names.index(name), name, arr)
    return tbl


def _write_csv(tbl: pa.Table, path: Path, header: bool = True) -> None:
    """Fast, deterministic CSV (DuckDB COPY: RFC 4180 quoting only where needed)."""
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("tbl", tbl)
        target = str(path).replace("'", "''")
        con.execute(f"COPY tbl TO '{target}' (FORMAT csv, HEADER {str(header).lower()})")
    finally:
        con.close()


def _write_table(
    tbl: pa.Table,
    csv_cols: dict[str, pa.Array],
    out: Path,
    name: str,
    fmt: str,
    costs: bool = True,
) -> None:
    expected = TABLES_BY_NAME[name].column_names
    if not costs and name in COST_COLUMNS:  # a store whose exports carry no cost columns
        expected = [c for c in expected if c != COST_COLUMNS[name]]
        tbl = tbl.drop_columns([COST_COLUMNS[name]])
    if tbl.column_names != expected:
        raise AssertionError(f"{name}: columns {tbl.column_names} != contract {expected}")
    for other in FORMATS:
        stale = out / f"{name}.{other}"
        if other != fmt and stale.exists():
            stale.unlink()
    if fmt == "csv":
        _write_csv(_csv_view(tbl, csv_cols), out / f"{name}.csv")
    else:
        pq.write_table(tbl, out / f"{name}.parquet", compression="zstd")


def write_store(
    store: Store,
    out: Path,
    fmt: str = "csv",
    progress: Callable[[str], None] | None = None,
    costs: bool = True,
) -> None:
    """Write the six tables of the contract to ``out`` as ``<table>.<fmt>``; ``costs=False``
    leaves out the optional cost columns (COST_COLUMNS), as a store without cost data."""
    out.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        overrides = store.csv_overrides.get(t.name, {})
        _write_table(store.tables[t.name], overrides, out, t.name, fmt, costs)
        if progress:
            progress(f"write {t.name}")


# --------------------------------------------------------------------------------------
# Append one day
# --------------------------------------------------------------------------------------


def detect_format(src: Path) -> str:
    found = [f for f in FORMATS if (src / f"orders.{f}").exists()]
    if len(found) != 1:
        raise FileNotFoundError(f"{src}: expected exactly one of orders.csv / orders.parquet")
    return found[0]


def _open_store(src: Path, fmt: str) -> duckdb.DuckDBPyConnection:
    """Views raw_<table> over the source files, timestamps as UTC epoch seconds."""
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET TimeZone = 'UTC'")
    for t in TABLES:
        path = str(src / f"{t.name}.{fmt}").replace("'", "''")
        if fmt == "csv":
            reader = f"read_csv('{path}', all_varchar = true, header = true)"
        else:
            reader = f"read_parquet('{path}')"
        con.execute(f"CREATE VIEW raw_{t.name} AS SELECT * FROM {reader}")

    def ts(col: str) -> str:
        if fmt == "csv":
            return f"epoch(cast({col} AS timestamptz))::bigint"
        return f"epoch({col})::bigint"

    con.execute(
        f"""CREATE TABLE o AS SELECT order_id, customer_id, customer_email,
        {ts("ordered_at")} AS utc, coalesce(nullif(lower(trim(status)), ''), 'completed') AS status,
        cast(shipping_amount AS double) AS shipping,
        cast(substr(order_id, 2) AS bigint) AS num FROM raw_orders"""
    )
    con.execute(
        """CREATE TABLE l AS SELECT order_line_id, order_id,
        cast(quantity AS bigint) AS qty,
        round(cast(unit_price AS double) * 100)::bigint AS unit_c,
        round(coalesce(cast(discount_amount AS double), 0) * 100)::bigint AS disc_c,
        coalesce(cast(is_gift AS boolean), false) AS gift,
        cast(substr(order_line_id, 2) AS bigint) AS num FROM raw_order_lines"""
    )
    con.execute(
        f"""CREATE TABLE r AS SELECT order_id, {ts("refunded_at")} AS utc,
        cast(substr(refund_id, 2) AS bigint) AS num FROM raw_refunds"""
    )
    return con


def _paris_offset(d: date) -> int:
    return 2 if _last_sunday(d.year, 3) <= d < _last_sunday(d.year, 10) else 1


def append_day(
    src: Path,
    out: Path,
    seed: int,
    fmt: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> date:
    """Copy the store in ``src`` to ``out`` plus one day; return the new day."""
    step = progress or (lambda _name: None)
    src_fmt = detect_format(src)
    if fmt is not None and fmt != src_fmt:
        raise ValueError(f"--append-day keeps the source format ({src_fmt}), got --format {fmt}")
    if src.resolve() == out.resolve():
        raise ValueError("--append-day needs an --out directory different from the source")
    con = _open_store(src, src_fmt)
    end = con.execute(
        "SELECT cast(max(cast(spend_date AS date)) AS date) FROM raw_marketing_spend"
    ).fetchone()[0]
    if end is None:
        end = con.execute("SELECT cast(to_timestamp(max(utc)) AS date) FROM o").fetchone()[0]
    new_day = end + timedelta(days=1)
    rng = _rng(seed, f"append:{new_day.isoformat()}")
    day0 = (new_day - date(1970, 1, 1)).days * 86400
    off = _paris_offset(new_day)
    w_lo = day0 - 28 * 86400

    # ------------------------------------------------------------ recent rates
    daily_orders, daily_new = con.execute(
        f"""WITH k AS (SELECT utc, coalesce(customer_id, lower(trim(customer_email))) AS ident
              FROM o WHERE status <> 'test'),
           first AS (SELECT ident, min(utc) AS first_utc FROM k
                     WHERE ident IS NOT NULL GROUP BY ident)
        SELECT (SELECT count(*) FROM k WHERE utc >= {w_lo}) / 28.0,
               (SELECT count(*) FROM first WHERE first_utc >= {w_lo}) / 28.0"""
    ).fetchone()
    daily_refunds = con.execute(f"SELECT count(*) / 28.0 FROM r WHERE utc >= {w_lo}").fetchone()[0]
    max_o, max_l, max_r, max_c = con.execute(
        """SELECT (SELECT max(num) FROM o), (SELECT max(num) FROM l),
        (SELECT coalesce(max(num), 0) FROM r),
        (SELECT coalesce(max(cast(substr(customer_id, 2) AS bigint)), 0) FROM raw_customers)"""
    ).fetchone()
    n_new = max(1, int(rng.poisson(daily_new)))
    n_rep = max(1, int(rng.poisson(max(daily_orders - daily_new, 0.0))))

    # ------------------------------------------------------------ repeat buyers
    pool = con.execute(
        f"""WITH recent AS (
              SELECT o.customer_id, CASE WHEN o.customer_id IS NULL
                     THEN lower(trim(o.customer_email)) END AS guest_email
              FROM o WHERE o.status = 'completed' AND o.utc >= {day0 - 365 * 86400}
                AND (o.customer_id IS NOT NULL OR o.customer_email IS NOT NULL)
                AND coalesce(lower(o.customer_email), '') NOT LIKE '%@brand.test%')
        SELECT recent.customer_id, coalesce(c.email, recent.guest_email) AS email, count(*) AS w
        FROM recent LEFT JOIN raw_customers AS c USING (customer_id)
        GROUP BY ALL ORDER BY 1 NULLS LAST, 2"""
    ).fetchall()
    w = np.array([p[2] for p in pool], dtype=float)
    pick = rng.choice(len(pool), n_rep, p=w / w.sum())
    rep_cid = [pool[i][0] for i in pick]
    rep_email = [pool[i][1] for i in pick]

    # ------------------------------------------------------------ new buyers
    ch_new = _categorical(rng, ACQ_SHARE, n_new)
    bf, cm = bfcm_window(new_day.year)
    is_bfcm = bf <= new_day <= cm
    promo_p = np.where(ch_new == AFFILIATE, PROMO_P_AFFILIATE, PROMO_P_BASE)
    promo = rng.random(n_new) < (PROMO_P_BFCM if is_bfcm else promo_p)
    registered = rng.random(n_new) >= PURE_GUEST_SHARE
    tag = f"n{new_day:%Y%m%d}x"
    new_email = person_emails(np.arange(n_new), tag=tag).to_pylist()
    new_cnum = np.full(n_new, -1, dtype=np.int64)
    new_cnum[registered] = max_c + 1 + np.arange(int(registered.sum()))
    ch = np.concatenate([ch_new, _categorical(rng, REPEAT_CH_MIX, n_rep)])
    u = rng.random(n_new)
    ch[:n_new][u < FIRST_ORDER_DIRECT] = DIRECT
    code = np.concatenate(
        [
            _discounts_first(rng, ch_new, promo, np.full(n_new, is_bfcm)),
            _discounts_repeat(rng, np.full(n_rep, is_bfcm)),
        ]
    )
    no = n_new + n_rep
    home = _categorical(rng, FIRST_CAT_SHARE, no)
    first = np.arange(no) < n_new
    cid: list[str | None] = [f"C{c:08d}" if c >= 0 else None for c in new_cnum] + rep_cid
    email: list[str | None] = new_email + rep_email
    blank = (rng.random(no) < 0.05) & np.array([c is not None for c in cid])
    email = [None if b else e for e, b in zip(email, blank, strict=True)]
    sec = _sec_of_day(rng, no)
    utc = day0 + sec - off * 3600
    osort = np.lexsort((np.arange(no), utc))
    status = np.where(rng.random(no) < 0.02, ST_CANCELLED, ST_COMPLETED)
    pct = np.where(code >= 0, CODE_PCT[np.maximum(code, 0)], 0)

    # lines (orders in output order)
    n_ng = 1 + np.minimum(rng.poisson(np.where(first, 1.5, 1.65)), 5)
    has_gift = rng.random(no) < GIFT_P
    l_gen = np.repeat(np.arange(no), n_ng)
    l_j = np.arange(len(l_gen)) - np.repeat(np.cumsum(n_ng) - n_ng, n_ng)
    l_cat = np.where(
        first[l_gen] | (rng.random(len(l_gen)) < 0.6),
        home[l_gen],
        _categorical(rng, CAT_POPULARITY, len(l_gen)),
    )
    r_order = rng.random(no)
    l_prod = (
        CAT_START[l_cat]
        + (np.floor(r_order[l_gen] * CAT_SIZE[l_cat]).astype(np.int64) + l_j) % CAT_SIZE[l_cat]
    )
    uq = rng.random(len(l_gen))
    thr = QTY_THRESHOLDS[PRODUCT_CAT[l_prod]]
    l_qty = 1 + (uq < thr[:, 0]) + (uq < thr[:, 1]) + (uq < thr[:, 2])
    g = np.flatnonzero(has_gift)
    l_gen = np.concatenate([l_gen, g])
    l_j = np.concatenate([l_j, n_ng[g]])
    l_prod = np.concatenate([l_prod, GIFT_PRODUCTS[rng.integers(0, len(GIFT_PRODUCTS), len(g))]])
    l_qty = np.concatenate([l_qty, np.ones(len(g), np.int64)])
    l_gift = np.concatenate([np.zeros(len(l_gen) - len(g), bool), np.ones(len(g), bool)])
    opos = np.empty(no, dtype=np.int64)
    opos[osort] = np.arange(no)
    ls = np.lexsort((l_j, opos[l_gen]))
    l_gen, l_prod, l_qty, l_gift = l_gen[ls], l_prod[ls], l_qty[ls], l_gift[ls]
    unit = PRODUCT_PRICE[l_prod]
    gross = unit * l_qty
    disc = np.where(l_gift, gross, (gross * pct[l_gen] + 99) // 100)
    paid = np.bincount(l_gen, weights=gross - disc, minlength=no).astype(np.int64)
    shipping = np.where((paid > 0) & (paid < 4900), 490, 0)
    ship_cost = _shipping_cost(l_gen, l_qty, no, status != ST_CANCELLED)
    order_nums = max_o + 1 + opos
    step("new orders")

    # ------------------------------------------------------------ late refunds
    cand = con.execute(
        f"""WITH refunded AS (SELECT DISTINCT order_id FROM r),
           cand AS (SELECT o.order_id, o.utc, coalesce(o.shipping, 0) AS shipping FROM o
                    WHERE o.status = 'completed' AND o.utc BETWEEN {day0 - 45 * 86400}
                    AND {day0 - 3 * 86400} AND o.order_id NOT IN (SELECT order_id FROM refunded))
        SELECT cand.order_id, cand.utc, cand.shipping, l.order_line_id, l.qty,
               l.unit_c * l.qty - l.disc_c AS paid_c, l.gift
        FROM cand JOIN l USING (order_id) ORDER BY cand.order_id, l.order_line_id"""
    ).fetchall()
    con.close()
    by_order: dict[str, list[tuple]] = {}
    order_utc: dict[str, int] = {}
    for oid, outc, _ship, lid, qty, paid_c, gift in cand:
        by_order.setdefault(oid, []).append((lid, int(qty), int(paid_c), bool(gift)))
        order_utc[oid] = int(outc)
    candidates = sorted(
        (k for k, v in by_order.items() if sum(x[2] for x in v) > 0),
        key=lambda k: (order_utc[k], k),
    )
    month_start = (new_day.replace(day=1) - date(1970, 1, 1)).days * 86400
    prev_month = [k for k in candidates if order_utc[k] < month_start]
    n_ref = min(len(candidates), max(2, int(rng.poisson(daily_refunds))))
    chosen: list[str] = []
    if prev_month and n_ref:
        chosen.append(prev_month[int(rng.integers(0, len(prev_month)))])
    taken = set(chosen)
    rest = [k for k in candidates if k not in taken]
    extra = (
        rng.choice(len(rest), min(len(rest), n_ref - len(chosen)), replace=False) if rest else []
    )
    chosen += [rest[i] for i in sorted(extra)]
    ref_rows: list[tuple[str, str | None, int, int | None, str]] = []
    for i, oid in enumerate(chosen):
        lines = [x for x in by_order[oid] if not x[3] and x[2] > 0]
        full = i == 0 or (i > 1 and rng.random() < 0.33)
        reason = REFUND_REASONS[int(rng.integers(0, len(REFUND_REASONS)))]
        if full or not lines:
            ref_rows.append((oid, None, sum(x[2] for x in by_order[oid]), None, reason))
        else:
            lid, qty, paid_c, _ = lines[int(rng.integers(0, len(lines)))]
            q = 1 + int(rng.integers(0, qty))
            ref_rows.append((oid, lid, paid_c * q // qty, q, reason))
    nr = len(ref_rows)
    r_sec = 8 * 3600 + rng.integers(0, 12 * 3600, nr)
    r_utc = np.sort(day0 + r_sec - off * 3600)
    step("late refunds")

    # ------------------------------------------------------------ new tables
    co = osort
    cid_sorted = [cid[i] for i in co]
    email_sorted = [email[i] for i in co]
    pair = _choice_by_group(rng, ch[co], CH_PAIRS)
    orders_tbl = pa.table(
        {
            "order_id": _ids("O", order_nums[co], 9),
            "customer_id": pa.array(cid_sorted, pa.string()),
            "customer_email": pa.array(email_sorted, pa.string()),
            "ordered_at": _ts_array(utc[co]),
            "status": _take_str(("completed", "cancelled", "test"), status[co]),
            "currency": pa.array(["EUR"] * no, pa.string()),
            "prices_include_tax": _bool_array(np.ones(no, bool)),
            "shipping_amount": _money(shipping[co]),
            "utm_source": _take_str(PAIR_SOURCE, pair),
            "utm_medium": _take_str(PAIR_MEDIUM, pair),
            "utm_campaign": pa.nulls(no, pa.string()),
            "discount_code": _take_str([c[0] for c in CODES], code[co]),
            "purchase_type": pa.array(["one_time"] * no, pa.string()),
            "shipping_cost": _money(ship_cost[co]),
        }
    )
    nl = len(l_gen)
    lines_tbl = pa.table(
        {
            "order_line_id": _ids("L", max_l + 1 + np.arange(nl), 10),
            "order_id": _ids("O", order_nums[l_gen], 9),
            "product_id": _take_str([p[0] for p in PRODUCTS], l_prod),
            "quantity": pa.array(l_qty, pa.int32()),
            "unit_price": _money(unit),
            "discount_amount": _money(disc),
            "tax_rate": pa.array(
                np.where(PRODUCT_CAT[l_prod] == FOOD, VAT_FOOD, VAT_STANDARD), pa.float64()
            ),
            "is_gift": _bool_array(l_gift),
            "unit_cost": _money(PRODUCT_COST[l_prod]),  # a new day: cost at the time of sale
        }
    )
    refunds_tbl = pa.table(
        {
            "refund_id": _ids("R", max_r + 1 + np.arange(nr), 9),
            "order_id": pa.array([x[0] for x in ref_rows], pa.string()),
            "order_line_id": pa.array([x[1] for x in ref_rows], pa.string()),
            "refunded_at": _ts_array(r_utc),
            "amount": _money(np.array([x[2] for x in ref_rows], dtype=np.int64)),
            "quantity": pa.array([x[3] for x in ref_rows], pa.int32()),
            "reason": pa.array([x[4] for x in ref_rows], pa.string()),
        }
    )
    reg_new = np.flatnonzero(registered)
    new_first_utc = utc[reg_new]
    c_created = new_first_utc - rng.integers(60, 1200, len(reg_new))
    csort = np.lexsort((reg_new, c_created))
    customers_tbl = pa.table(
        {
            "customer_id": pa.array([f"C{new_cnum[i]:08d}" for i in reg_new[csort]], pa.string()),
            "created_at": _ts_array(c_created[csort]),
            "email": pa.array([new_email[i] for i in reg_new[csort]], pa.string()),
            "country": _take_str(COUNTRIES, _categorical(rng, COUNTRY_P, len(reg_new))),
        }
    )
    spend_tbl = _append_spend(src, src_fmt, end, new_day, rng)
    ones = np.ones
    new_tables = {
        "orders": (
            orders_tbl,
            {"ordered_at": _format_ts(utc[co], ones(no, np.int64) * off, np.zeros(no, bool))},
        ),
        "order_lines": (lines_tbl, {}),
        "refunds": (
            refunds_tbl,
            {"refunded_at": _format_ts(r_utc, ones(nr, np.int64) * off, np.zeros(nr, bool))},
        ),
        "customers": (
            customers_tbl,
            {
                "created_at": _format_ts(
                    c_created[csort], ones(len(csort), np.int64), np.zeros(len(csort), bool)
                )
            },
        ),
        "products": (None, {}),
        "marketing_spend": (spend_tbl, {}),
    }
    out.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        tbl, csv_cols = new_tables[t.name]
        src_file = src / f"{t.name}.{src_fmt}"
        dst_file = out / f"{t.name}.{src_fmt}"
        if tbl is not None:  # a store written without costs stays without them
            tbl = tbl.select([c for c in tbl.column_names if c in _file_columns(src_file)])
        if tbl is None or tbl.num_rows == 0:
            shutil.copyfile(src_file, dst_file)
        elif src_fmt == "csv":
            shutil.copyfile(src_file, dst_file)
            with tempfile.TemporaryDirectory() as tmp:
                part = Path(tmp) / "part.csv"
                _write_csv(_csv_view(tbl, csv_cols), part, header=False)
                with open(dst_file, "ab") as fh:
                    fh.write(part.read_bytes())
        else:
            old = pq.read_table(src_file)
            pq.write_table(
                pa.concat_tables([old, tbl.cast(old.schema)]), dst_file, compression="zstd"
            )
        step(f"write {t.name}")
    return new_day


def _file_columns(path: Path) -> list[str]:
    """The column names of a store file (CSV header or Parquet schema)."""
    if path.suffix == ".parquet":
        return list(pq.read_schema(path).names)
    with open(path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\r\n").split(",")


def _append_spend(
    src: Path, fmt: str, end: date, new_day: date, rng: np.random.Generator
) -> pa.Table:
    """Spend rows for the new day: each row key of the last day, at its 28-day average."""
    con = duckdb.connect(config={"threads": 2})
    path = str(src / f"marketing_spend.{fmt}").replace("'", "''")
    reader = (
        f"read_csv('{path}', all_varchar = true, header = true)"
        if fmt == "csv"
        else f"read_parquet('{path}')"
    )
    rows = con.execute(
        f"""WITH s AS (SELECT cast(spend_date AS date) AS d, channel, utm_source, utm_medium,
                campaign, cast(amount AS double) AS amount FROM {reader}
                WHERE coalesce(campaign, '') NOT IN ('agency_fee', 'tv')),
           k AS (SELECT DISTINCT channel, utm_source, utm_medium, campaign FROM s
                 WHERE d = DATE '{end.isoformat()}')
        SELECT k.channel, k.utm_source, k.utm_medium, k.campaign, avg(s.amount)
        FROM k JOIN s ON s.d > DATE '{end.isoformat()}' - 28
          AND s.channel IS NOT DISTINCT FROM k.channel
          AND s.utm_source IS NOT DISTINCT FROM k.utm_source
          AND s.utm_medium IS NOT DISTINCT FROM k.utm_medium
          AND s.campaign IS NOT DISTINCT FROM k.campaign
        GROUP BY ALL ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST"""
    ).fetchall()
    if new_day.day == 1:
        fee = con.execute(
            f"""SELECT channel, utm_source, utm_medium, campaign, cast(amount AS double)
            FROM {reader} WHERE campaign = 'agency_fee'
            ORDER BY cast(spend_date AS date) DESC LIMIT 1"""
        ).fetchall()
        rows += fee
    con.close()
    amounts = np.array([r[4] for r in rows], dtype=float) * rng.lognormal(0.0, 0.15, len(rows))
    return pa.table(
        {
            "spend_date": pa.array([new_day] * len(rows), pa.date32()),
            "channel": pa.array([r[0] for r in rows], pa.string()),
            "utm_source": pa.array([r[1] for r in rows], pa.string()),
            "utm_medium": pa.array([r[2] for r in rows], pa.string()),
            "campaign": pa.array([r[3] for r in rows], pa.string()),
            "amount": _money(np.rint(amounts * 100)),
            "currency": pa.array(["EUR"] * len(rows), pa.string()),
        }
    )


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="generate_demo_store.py",
        description="Generate a deterministic demo DTC store (raw tables of the data contract).",
    )
    p.add_argument("--customers", type=int, help="number of buying customers (persons)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--format", choices=FORMATS, default=None, help="csv (default) or parquet")
    p.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last day of history, YYYY-MM-DD (default {DEFAULT_END_DATE}); ~3 years back",
    )
    p.add_argument(
        "--append-day",
        type=Path,
        metavar="SRC_DIR",
        help="copy the store in SRC_DIR to --out plus one more day of orders and late refunds",
    )
    p.add_argument(
        "--without-costs",
        action="store_true",
        help="leave out the optional cost columns (products.unit_cost, order_lines.unit_cost, "
        "orders.shipping_cost): a store exporting no cost data (margins unknown)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.append_day is None and (args.customers is None or args.customers < 1):
        p.error("--customers N (>= 1) is required unless --append-day is given")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    t0 = time.perf_counter()
    if args.append_day is not None:
        bar = tqdm(total=8, desc="append day", unit="step", disable=args.quiet)

        def tick(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update()

        new_day = append_day(args.append_day, args.out, args.seed, args.format, tick)
        bar.close()
        print(
            f"appended {new_day} -> {args.out} ({time.perf_counter() - t0:.1f}s)", file=sys.stderr
        )
        return 0
    cfg = Config(customers=args.customers, seed=args.seed, end_date=args.end_date)
    fmt = args.format or "csv"
    bar = tqdm(total=14, desc="generate", unit="step", disable=args.quiet)

    def tick(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update()

    store = build_store(cfg, tick)
    write_store(store, args.out, fmt, tick, costs=not args.without_costs)
    bar.close()
    counts = ", ".join(f"{k}={v.num_rows}" for k, v in store.tables.items())
    print(
        f"{cfg.customers} customers, {cfg.start_date}..{cfg.end_date}, {fmt} -> {args.out}: "
        f"{counts} ({time.perf_counter() - t0:.1f}s)",
        file=sys.stderr,
    )
    return 0
