"""Fake retail sales, fast and deterministic: the star schema's dimensions and a vectorised fact stream.

Facts are generated a chunk at a time with numpy (bounded memory, independent of --rows) and
formatted by Arrow's string kernels, one JSON-lines file (online orders) and one CSV file (store
sales) per day and chunk, under raw/sales/year=YYYY/month=MM/day=DD/ by each record's own date. faker only
fills the small pools the dimensions are drawn from. The same seed gives byte-identical files.

A small share of records carries the defects real feeds have (non-positive quantity or price,
a missing customer, an unknown product, a total that does not add up, a repeated sale_id), so
the ETL's quality rules and quarantine have something to do; `error_rate=0` turns that off.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from datalake.domain.schema import RAW_SALES_FIELDS
from datalake.fsutil import atomic_write_json, read_json
from datalake.layout import LakeLayout
from datalake.model import SEED_FORMATS, SeedOptions, SeedResult
from datalake.progress import NULL_PROGRESS, Progress

FORMATS = SEED_FORMATS
REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
SEGMENTS = ("Consumer", "Small Business", "Corporate", "VIP")
SEGMENT_WEIGHTS = (0.55, 0.2, 0.2, 0.05)
ONLINE_PAYMENTS = ("credit_card", "paypal", "debit_card", "gift_card")
ONLINE_PAYMENT_WEIGHTS = (0.5, 0.25, 0.2, 0.05)
STORE_PAYMENTS = ("credit_card", "debit_card", "cash", "mobile_wallet")
STORE_PAYMENT_WEIGHTS = (0.45, 0.3, 0.15, 0.1)
DISCOUNT_PERMILLE = np.array([0, 0, 0, 0, 0, 50, 100, 150, 200, 250])
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Electronics": ("Headphones", "Charger", "Speaker", "Tablet", "Monitor", "Keyboard", "Camera"),
    "Home": ("Lamp", "Blanket", "Kettle", "Vase", "Cushion", "Clock", "Mirror"),
    "Apparel": ("Jacket", "Sneakers", "T-Shirt", "Jeans", "Scarf", "Hat", "Backpack"),
    "Grocery": ("Coffee", "Olive Oil", "Tea", "Pasta", "Chocolate", "Granola", "Honey"),
    "Sports": ("Yoga Mat", "Dumbbell", "Water Bottle", "Tennis Racket", "Bike Helmet", "Jump Rope"),
    "Beauty": ("Shampoo", "Face Cream", "Perfume", "Lipstick", "Sunscreen", "Hair Dryer"),
    "Toys": ("Puzzle", "Board Game", "Building Set", "Plush Bear", "Kite", "Toy Car"),
    "Books": ("Cookbook", "Novel", "Atlas", "Notebook", "Comic", "Biography"),
}
PRICE_RANGE_CENTS: dict[str, tuple[int, int]] = {
    "Electronics": (1999, 89999),
    "Home": (999, 19999),
    "Apparel": (999, 24999),
    "Grocery": (199, 2999),
    "Sports": (799, 29999),
    "Beauty": (499, 9999),
    "Toys": (699, 14999),
    "Books": (499, 4999),
}
DEFECTS = (
    "non_positive_quantity",
    "non_positive_unit_price",
    "missing_customer_id",
    "unknown_product_id",
    "inconsistent_total_amount",
    "duplicate_sale_id",
)
ID_BLOCK = 10**10  # sale ids of seed batch b are b * ID_BLOCK + 1 ... so appended seeds never collide


# ---------------------------------------------------------------------------- dimensions


@dataclass(frozen=True)
class Dimensions:
    """What fact generation needs from the dimensions: their sizes and the price list."""

    customers: int
    stores: int
    list_price_cents: np.ndarray

    @property
    def products(self) -> int:
        return len(self.list_price_cents)


def _to_cents_decimal(cents: np.ndarray, precision: int = 12) -> pa.Array:
    """Integer cents as an exact DECIMAL(precision, 2) Arrow array (no float rounding anywhere)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign-extend to 128 bits
    return pa.Array.from_buffers(pa.decimal128(precision, 2), len(cents), [None, pa.py_buffer(words)])


def _generate_dimensions(opts: SeedOptions, rng: np.random.Generator) -> dict[str, pa.Table]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(opts.seed)
    first = np.array(sorted({fake.first_name() for _ in range(400)}))
    last = np.array(sorted({fake.last_name() for _ in range(400)}))
    cities = np.array(sorted({fake.city() for _ in range(300)}))
    domains = np.array(["example.com", "mail.test", "shop.example", "inbox.test"])
    brands = np.array(sorted({fake.last_name() + suffix for suffix in (" & Co", " Labs", "") for _ in range(12)}))

    n_cust = opts.customers or int(min(max(opts.rows // 40, 1_000), 200_000))
    fi = rng.integers(0, len(first), n_cust)
    la = rng.integers(0, len(last), n_cust)
    names = np.char.add(np.char.add(first[fi], " "), last[la])
    ids = np.arange(1, n_cust + 1)
    emails = np.char.add(
        np.char.add(np.char.lower(np.char.add(np.char.add(first[fi], "."), last[la])), ids.astype(str)),
        np.char.add("@", domains[rng.integers(0, len(domains), n_cust)]),
    )
    signup = np.datetime64("2019-01-01") + rng.integers(0, 6 * 365, n_cust).astype("timedelta64[D]")
    customers = pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "customer_name": names.tolist(),
            "email": emails.tolist(),
            "city": cities[rng.integers(0, len(cities), n_cust)].tolist(),
            "region": np.array(REGIONS)[rng.integers(0, len(REGIONS), n_cust)].tolist(),
            "customer_segment": np.array(SEGMENTS)[rng.choice(len(SEGMENTS), n_cust, p=SEGMENT_WEIGHTS)].tolist(),
            "signup_date": pa.array(signup.astype("datetime64[D]"), pa.date32()),
        }
    )

    categories = list(CATEGORIES)
    product_rows: dict[str, list[Any]] = {k: [] for k in ("product_name", "category", "brand")}
    prices = np.empty(opts.products, dtype=np.int64)
    for i in range(opts.products):
        category = categories[i % len(categories)]
        noun = CATEGORIES[category][int(rng.integers(0, len(CATEGORIES[category])))]
        brand = str(brands[int(rng.integers(0, len(brands)))])
        product_rows["product_name"].append(f"{brand.split(' ')[0]} {noun} {i + 1:03d}")
        product_rows["category"].append(category)
        product_rows["brand"].append(brand)
        low, high = PRICE_RANGE_CENTS[category]
        prices[i] = (int(rng.integers(low, high)) // 100) * 100 + 99
    cost = (prices * rng.uniform(0.45, 0.8, opts.products)).astype(np.int64)
    products = pa.table(
        {
            "product_id": pa.array(np.arange(1, opts.products + 1), pa.int64()),
            **{k: pa.array(v, pa.string()) for k, v in product_rows.items()},
            "unit_cost": _to_cents_decimal(cost),
            "list_price": _to_cents_decimal(prices),
        }
    )

    store_city = cities[rng.integers(0, len(cities), opts.stores)]
    opened = np.datetime64("2010-01-01") + rng.integers(0, 12 * 365, opts.stores).astype("timedelta64[D]")
    stores = pa.table(
        {
            "store_id": pa.array(np.arange(1, opts.stores + 1), pa.int64()),
            "store_name": [f"{c} Store #{i + 1}" for i, c in enumerate(store_city.tolist())],
            "city": store_city.tolist(),
            "region": np.array(REGIONS)[np.arange(opts.stores) % len(REGIONS)].tolist(),
            "opened_date": pa.array(opened.astype("datetime64[D]"), pa.date32()),
        }
    )
    return {"customers": customers, "products": products, "stores": stores}


def dimension_file(layout: LakeLayout, name: str) -> Path:
    return layout.raw / name / f"{name}.csv"


def _load_or_create_dimensions(layout: LakeLayout, opts: SeedOptions) -> tuple[Dimensions, dict[str, int]]:
    """Dimensions are master data: made by the first seed, reused by every later one."""
    import pyarrow.csv as pacsv

    paths = {name: dimension_file(layout, name) for name in ("customers", "products", "stores")}
    if all(p.is_file() for p in paths.values()):
        tables = {name: pacsv.read_csv(p) for name, p in paths.items()}
    else:
        tables = _generate_dimensions(opts, np.random.default_rng([opts.seed, 7]))
        for name, table in tables.items():
            paths[name].parent.mkdir(parents=True, exist_ok=True)
            tmp = paths[name].with_suffix(".csv.tmp")
            pacsv.write_csv(table, tmp)
            tmp.replace(paths[name])
    price = tables["products"].column("list_price").to_numpy()
    price_cents = np.round(price.astype(np.float64) * 100).astype(np.int64)
    sizes = {name: t.num_rows for name, t in tables.items()}
    return Dimensions(sizes["customers"], sizes["stores"], price_cents), sizes


# ---------------------------------------------------------------------------- facts


def _day_counts(opts: SeedOptions, rng: np.random.Generator) -> tuple[date, np.ndarray]:
    end = opts.end_date or datetime.now(UTC).date()
    start = end - timedelta(days=opts.days - 1)
    weekday = (np.arange(opts.days) + start.weekday()) % 7
    weights = np.where(weekday >= 5, 1.35, 1.0) * np.linspace(0.9, 1.1, opts.days)
    counts = rng.multinomial(opts.rows, weights / weights.sum())
    return start, counts


def _choice(rng: np.random.Generator, values: tuple[str, ...], weights: tuple[float, ...], n: int) -> np.ndarray:
    return rng.choice(len(values), n, p=np.array(weights) / sum(weights))


def _chunk_table(
    opts: SeedOptions,
    dims: Dimensions,
    batch: int,
    chunk: int,
    first_row: int,
    day_index: np.ndarray,
    start: date,
    defects: dict[str, int],
) -> pa.Table:
    n = len(day_index)
    rng = np.random.default_rng([opts.seed, batch, chunk])
    seconds = np.sort(day_index.astype(np.int64) * 86_400 + rng.integers(0, 86_400, n))
    epoch = (start - date(1970, 1, 1)).days * 86_400
    timestamps = seconds + epoch
    online = rng.random(n) < opts.online_share
    if opts.format == "json":
        online[:] = True
    elif opts.format == "csv":
        online[:] = False

    customer = rng.integers(1, dims.customers + 1, n)
    customer_valid = np.ones(n, dtype=bool)
    product = rng.integers(1, dims.products + 1, n)
    store = rng.integers(1, dims.stores + 1, n)
    quantity = np.minimum(1 + rng.poisson(1.2, n), 12)
    price = dims.list_price_cents[product - 1].copy()
    discount = DISCOUNT_PERMILLE[rng.integers(0, len(DISCOUNT_PERMILLE), n)]
    total = (price * quantity * (1000 - discount) + 500) // 1000
    sale_id = batch * ID_BLOCK + first_row + np.arange(1, n + 1, dtype=np.int64)
    payment_online = _choice(rng, ONLINE_PAYMENTS, ONLINE_PAYMENT_WEIGHTS, n)
    payment_store = _choice(rng, STORE_PAYMENTS, STORE_PAYMENT_WEIGHTS, n)

    n_bad = int(rng.binomial(n, opts.error_rate)) if opts.error_rate else 0
    if n_bad:
        bad = np.sort(rng.choice(np.arange(1, n), size=min(n_bad, n - 1), replace=False))
        kinds = rng.integers(0, len(DEFECTS), len(bad))
        for k, name in enumerate(DEFECTS):
            idx = bad[kinds == k]
            defects[name] = defects.get(name, 0) + len(idx)
            if name == "non_positive_quantity":
                quantity[idx] = -quantity[idx]
                total[idx] = -total[idx]
            elif name == "non_positive_unit_price":
                price[idx] = 0
                total[idx] = 0
            elif name == "missing_customer_id":
                customer_valid[idx] = False
            elif name == "unknown_product_id":
                product[idx] = dims.products + 1 + idx % 97
            elif name == "inconsistent_total_amount":
                total[idx] = total[idx] * 2 + 100
            elif name == "duplicate_sale_id":
                sale_id[idx] = sale_id[idx - 1]

    day_of_row = (timestamps // 86_400 - epoch // 86_400).astype(np.int32)
    return pa.table(
        {
            "sale_id": pa.array(sale_id, pa.int64()),
            "channel": _dictionary(np.where(online, 0, 1), ("online", "store")),
            "customer_id": pa.array(customer, pa.int64(), mask=~customer_valid),
            "product_id": pa.array(product, pa.int64()),
            "store_id": pa.array(store, pa.int64(), mask=online),
            "quantity": pa.array(quantity, pa.int32()),
            "unit_price": _to_cents_decimal(price),
            "discount": _to_cents_decimal(discount // 10, precision=4).cast(pa.decimal128(4, 3)),
            "total_amount": _to_cents_decimal(total),
            "payment_method": _dictionary(
                np.where(online, payment_online, len(ONLINE_PAYMENTS) + payment_store),
                ONLINE_PAYMENTS + STORE_PAYMENTS,
            ),
            "sale_timestamp": pa.array(timestamps.astype("datetime64[s]"), pa.timestamp("s")),
            "is_online": pa.array(online),
            "day_index": pa.array(day_of_row, pa.int32()),  # the day from `start`: which file the row goes to
        }
    )


def _dictionary(indices: np.ndarray, values: tuple[str, ...] | list[str]) -> pa.Array:
    """A dictionary-encoded string column: strings built once per distinct value, not per row."""
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(list(values), pa.string()))


def _day_labels(start: date, days: int) -> dict[str, list[str]]:
    dates = [start + timedelta(days=i) for i in range(days)]
    return {
        "year": [f"{d.year:04d}" for d in dates],
        "month": [f"{d.month:02d}" for d in dates],
        "day": [f"{d.day:02d}" for d in dates],
    }


def _json_number(decimals: pa.Array) -> pa.Array:
    """A DECIMAL column as a JSON number, written as DuckDB's JSON writer wrote it: through DOUBLE, so the
    shortest form with at least one decimal ("0.2", "5.0"), which for these few digits is the decimal
    text without its trailing zeros."""
    import pyarrow.compute as pc

    text = pa.large_string()
    stripped = pc.utf8_rtrim(decimals.cast(text), characters="0")  # "5.00" -> "5."
    padded = pc.binary_join_element_wise(stripped, pa.scalar("0", text), pa.scalar("", text))
    return pc.if_else(pc.ends_with(stripped, "."), padded, stripped)


def _lines(table: pa.Table, online: bool) -> pa.Array:
    """Each row of the chunk as one line of its file: a JSON object (online) or a CSV record (store).

    Byte for byte what DuckDB's COPY wrote before (JSON: no spaces, NULL as null, decimals through
    DOUBLE; CSV: NULL as an empty field, decimals at their scale), built by Arrow's string kernels in
    one pass per column. No value needs quoting or escaping: every string is one of a fixed set, and
    the strings are never NULL, so JSON's quotes go into the text around them.
    """
    import pyarrow.compute as pc

    text = pa.large_string()
    quoted: set[str] = set()
    columns: dict[str, pa.Array] = {}
    for name in RAW_SALES_FIELDS:
        column = table.column(name).combine_chunks()
        if name == "sale_timestamp":
            value = pc.replace_substring(column.cast(text), " ", "T", max_replacements=1)
            quoted.add(name)
        elif pa.types.is_dictionary(column.type):
            value = column.cast(text)
            quoted.add(name)
        elif pa.types.is_decimal(column.type) and online:
            value = _json_number(column)
        else:
            value = column.cast(text)
        columns[name] = pc.fill_null(value, pa.scalar("null" if online else "", text)) if value.null_count else value
    parts: list[Any] = []
    if online:
        closing = ""
        for i, name in enumerate(RAW_SALES_FIELDS):
            mark = '"' if name in quoted else ""
            parts += [closing + ("{" if i == 0 else ",") + f'"{name}":' + mark, columns[name]]
            closing = mark
        parts.append(closing + "}\n")
    else:
        parts = [part for name in RAW_SALES_FIELDS for part in (columns[name], ",")]
        parts[-1] = "\n"
    return pc.binary_join_element_wise(
        *(pa.scalar(p, text) if isinstance(p, str) else p for p in parts), pa.scalar("", text)
    )


class _ChunkWriter:
    """Writes one format of a chunk: its rows as lines, each day's run of lines to that day's file.

    The rows come sorted by time, so a day's rows are one contiguous run of lines and a file is one
    slice of one buffer. The JSON and CSV writers run side by side (Arrow's kernels release the GIL),
    overlapping the next chunk's generation.
    """

    def __init__(self, online: bool, target: Path, batch: int) -> None:
        self.online, self.target, self.batch = online, target, batch
        self.prefix, self.suffix = ("online", "json") if online else ("store", "csv")
        self.header = b"" if online else (",".join(RAW_SALES_FIELDS) + "\n").encode()

    def write(self, table: pa.Table, chunk: int, labels: dict[str, list[str]]) -> None:
        import pyarrow.compute as pc

        rows = table.filter(pc.equal(table.column("is_online"), self.online))
        if not rows.num_rows:
            return
        lines = _lines(rows, self.online)
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
        data = memoryview(lines.buffers()[2])
        day = rows.column("day_index").to_numpy()
        starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
        ends = np.r_[starts[1:], len(day)]
        name = f"{self.prefix}-b{self.batch:03d}-c{chunk:04d}-0.{self.suffix}"
        for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
            d = int(day[first])
            folder = (
                self.target / f"year={labels['year'][d]}" / f"month={labels['month'][d]}" / f"day={labels['day'][d]}"
            )
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / name, "wb") as out:
                out.write(self.header)
                out.write(data[offsets[first] : offsets[last]])


def seed(layout: LakeLayout, opts: SeedOptions, progress: Progress = NULL_PROGRESS) -> SeedResult:
    """Generate `opts.rows` sales (plus dimensions on first use) into the raw zone."""
    from datalake.fsutil import tree_stats

    opts.validate()
    began = time.perf_counter()
    manifest = read_json(layout.seeds_file, default=[])
    batch = len(manifest)
    dims, dim_sizes = _load_or_create_dimensions(layout, opts)
    start, counts = _day_counts(opts, np.random.default_rng([opts.seed, batch, 99]))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    target = layout.raw / "sales"
    target.mkdir(parents=True, exist_ok=True)
    files_before, bytes_before = tree_stats(target)

    defects: dict[str, int] = {}
    json_rows = csv_rows = 0
    writers = [_ChunkWriter(online, target, batch) for online in (True, False)]
    labels = _day_labels(start, opts.days)
    pending: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="seed-writer") as pool:
        try:
            with progress.task(f"Seeding {opts.rows:,} sales", total=opts.rows) as task:
                for chunk, first_row in enumerate(range(0, opts.rows, opts.chunk_rows)):
                    last_row = min(first_row + opts.chunk_rows, opts.rows)
                    rows = np.arange(first_row, last_row)
                    day_index = np.searchsorted(bounds, rows, side="right") - 1
                    table = _chunk_table(opts, dims, batch, chunk, first_row, day_index, start, defects)
                    n_online = int(pa.compute.sum(table.column("is_online")).as_py() or 0)
                    json_rows += n_online
                    csv_rows += table.num_rows - n_online
                    for future in pending:  # at most two chunks in memory
                        future.result()
                        task.advance(opts.chunk_rows / 2)
                    pending = [pool.submit(w.write, table, chunk, labels) for w in writers]
                for future in pending:
                    future.result()
                task.update(total=opts.rows)
                task.advance(opts.rows)
        finally:
            for future in pending:
                future.cancel()

    files_after, bytes_after = tree_stats(target)
    nonzero = np.nonzero(counts)[0]
    result = SeedResult(
        batch=batch,
        rows=opts.rows,
        json_rows=json_rows,
        csv_rows=csv_rows,
        files=files_after - files_before,
        bytes=bytes_after - bytes_before,
        first_date=str(start + timedelta(days=int(nonzero[0]))),
        last_date=str(start + timedelta(days=int(nonzero[-1]))),
        defects=dict(sorted(defects.items())),
        seconds=round(time.perf_counter() - began, 3),
        sale_id_min=batch * ID_BLOCK + 1,
        sale_id_max=batch * ID_BLOCK + opts.rows,
        dimensions=dim_sizes,
    )
    manifest.append(
        {
            **{k: v for k, v in asdict(opts).items() if k != "end_date"},
            "end_date": str(opts.end_date or ""),
            "batch": batch,
            "rows": opts.rows,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    atomic_write_json(layout.seeds_file, manifest)
    return result
