"""The sales ETL transform, defined once: casts, quality rules, derived columns.

Everything here is data and SQL text (DuckDB dialect), assembled into one SELECT over a relation
of raw records whose fields are still text. The DuckDB engine runs it as is, the raw query engine
wraps it in views, and the Spark job receives the same definitions (exported by `spec()` and
translated with sqlglot), so no engine keeps a hand-written copy that could drift.

The input relation has one row per raw record:
  _source_file  the file, relative to its zone        _raw_record  the original text
  _parse_error  why the record could not be split into fields, or NULL
  r_<field>     each raw field as text (NULL when absent); rules see s_<field>: trimmed, '' as NULL
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from datalake.domain.schema import RAW_SALES_FIELDS, SALES_FACT_COLUMNS

# One CSV field (RFC 4180): quoted, a doubled quote standing for a quote inside, or bare (no comma, no quote).
CSV_FIELD = '"(?:[^"]|"")*"|[^,"]*'

# Lines that are not text the engines can read, with the same message in every engine:
# - bytes that are not UTF-8 reach SQL as U+FFFD (decoded with replacement: Spark's readers, and the
#   DuckDB engine for lines its reader rejects); a line that already holds U+FFFD was damaged the
#   same way before it arrived, so it is quarantined too;
# - the line readers split at the control character 0x1E, so a line holding it is not a record;
# - a line longer than MAX_LINE_BYTES is not one either: DuckDB's reader rejects lines past its own,
#   higher limit and Spark's has none, so this rule draws the line for both.
ENCODING_ERROR = "invalid encoding: the line is not valid UTF-8"
SEPARATOR_ERROR = "unreadable line: it holds the control character 0x1E"
MAX_LINE_BYTES = 1_000_000
LONG_LINE_ERROR = f"unreadable line: longer than {MAX_LINE_BYTES:,} bytes"
REPLACEMENT_CHARACTER = "\ufffd"


def checked_lines_sql(lines: str) -> str:
    """Raw lines (`_source_file`, `_raw_record`) plus `_line_error`: why a line is not readable text, or NULL."""
    return f"""
SELECT _source_file, _raw_record,
  CASE WHEN contains(_raw_record, '{REPLACEMENT_CHARACTER}') THEN '{ENCODING_ERROR}'
    WHEN contains(_raw_record, chr(30)) THEN '{SEPARATOR_ERROR}'
    WHEN strlen(_raw_record) > {MAX_LINE_BYTES} THEN '{LONG_LINE_ERROR}' END AS _line_error
FROM {lines}"""


def csv_records_sql(lines: str) -> str:
    """CSV lines split into the record relation: `lines` has `_source_file` and `_raw_record` (one line, header skipped).

    The original line is the raw record, so a quarantined CSV row shows exactly what arrived. A line
    without quotes (every line the seed writes) is split at its commas, which costs a fraction of a
    CSV parser's work; a line with quotes is checked against CSV_FIELD and split by it, or is
    malformed when its quotes do not balance. A line with the wrong field count is malformed, and so
    is a line that is not readable text (`checked_lines_sql`); blank lines are no records. Lines are
    the unit, as in Spark's CSV reader without multiLine: a quoted field that spans lines makes
    malformed lines, quarantined, not a record.
    """
    n = len(RAW_SALES_FIELDS)
    unquote = (
        """lambda f: CASE WHEN starts_with(f, '"') THEN replace(substring(f, 2, length(f) - 2), '""', '"') ELSE f END"""
    )
    fields = ", ".join(f"CASE WHEN _fit THEN _fields[{i + 1}] END AS r_{f}" for i, f in enumerate(RAW_SALES_FIELDS))
    return f"""
SELECT _source_file, _raw_record,
  CASE WHEN _line_error IS NOT NULL THEN _line_error
    WHEN _fields IS NULL THEN 'malformed CSV row: unbalanced quotes'
    WHEN NOT _fit THEN 'malformed CSV row: expected {n} fields, found ' || CAST(array_length(_fields) AS VARCHAR)
  END AS _parse_error,
  {fields}
FROM (
  SELECT *, _line_error IS NULL AND array_length(_fields) = {n} AS _fit FROM (
    SELECT _source_file, _raw_record, _line_error,
      CASE WHEN NOT contains(_raw_record, '"') THEN string_split(_raw_record, ',')
        WHEN regexp_matches(_raw_record, '^(?:{CSV_FIELD})(?:,(?:{CSV_FIELD}))*$')
        -- a comma before each field, the first included: no match is empty (Java's regex engine steps over
        -- the character after an empty match, and would lose a field RE2 keeps)
        THEN list_transform(regexp_extract_all(',' || _raw_record, ',({CSV_FIELD})', 1), {unquote})
      END AS _fields
    FROM ({checked_lines_sql(lines)})
    -- trim() with a character list costs as much as the split: only lines that start blank pay for it
    -- (a CASE, because DuckDB reorders the terms of an OR by its own estimate of their cost)
    WHERE CASE WHEN ascii(_raw_record) IN (32, 9) THEN trim(_raw_record, ' \t') <> '' ELSE _raw_record <> '' END
  )
)"""


# Raw field -> the type it must cast to. A value that is present but does not cast is "unparseable".
CASTS: dict[str, str] = {
    "sale_id": "BIGINT",
    "channel": "VARCHAR",
    "customer_id": "BIGINT",
    "product_id": "BIGINT",
    "store_id": "BIGINT",
    "quantity": "INTEGER",
    "unit_price": "DECIMAL(12,2)",
    "discount": "DECIMAL(4,3)",
    "total_amount": "DECIMAL(12,2)",
    "payment_method": "VARCHAR",
    "sale_timestamp": "TIMESTAMP",
}
assert tuple(CASTS) == RAW_SALES_FIELDS

REQUIRED: tuple[str, ...] = (
    "sale_id",
    "channel",
    "customer_id",
    "product_id",
    "quantity",
    "unit_price",
    "total_amount",
    "payment_method",
    "sale_timestamp",
)
CHANNELS = ("online", "store")
TOTAL_TOLERANCE = "0.01"


@dataclass(frozen=True)
class Rule:
    """A quality rule: `fails` is a SQL condition over the typed record that is TRUE when it fails."""

    reason: str
    fails: str
    detail: str
    description: str


def _missing_detail() -> str:
    parts = ", ".join(f"CASE WHEN s_{f} IS NULL THEN '{f}' END" for f in REQUIRED)
    return f"'missing: ' || concat_ws(', ', {parts})"


def _unparseable_detail() -> str:
    parts = ", ".join(
        f"CASE WHEN s_{f} IS NOT NULL AND {f} IS NULL THEN '{f}=' || s_{f} END"
        for f, t in CASTS.items()
        if t != "VARCHAR"
    )
    return f"'cannot cast: ' || concat_ws(', ', {parts})"


RULES: tuple[Rule, ...] = (
    Rule("malformed_record", "_parse_error IS NOT NULL", "_parse_error", "the record could not be parsed"),
    Rule(
        "missing_required_field",
        " OR ".join(f"s_{f} IS NULL" for f in REQUIRED),
        _missing_detail(),
        "every required field is present",
    ),
    Rule(
        "unparseable_value",
        " OR ".join(f"(s_{f} IS NOT NULL AND {f} IS NULL)" for f, t in CASTS.items() if t != "VARCHAR"),
        _unparseable_detail(),
        "numbers, amounts and timestamps parse as their types",
    ),
    Rule(
        "invalid_channel",
        "channel NOT IN ('online', 'store')",
        "'channel=' || channel",
        "channel is online or store",
    ),
    Rule("non_positive_quantity", "quantity <= 0", "'quantity=' || s_quantity", "quantity > 0"),
    Rule("non_positive_unit_price", "unit_price <= 0", "'unit_price=' || s_unit_price", "unit_price > 0"),
    Rule(
        "invalid_discount",
        "discount IS NOT NULL AND (discount < 0 OR discount >= 1)",
        "'discount=' || s_discount",
        "0 <= discount < 1",
    ),
    Rule(
        "inconsistent_total_amount",
        f"abs(total_amount - round(quantity * unit_price * (1 - coalesce(discount, 0)), 2)) > {TOTAL_TOLERANCE}",
        "'total_amount=' || s_total_amount || ' expected ' || "
        "CAST(round(quantity * unit_price * (1 - coalesce(discount, 0)), 2) AS VARCHAR)",
        "total_amount = round(quantity * unit_price * (1 - discount), 2) within a cent",
    ),
    Rule(
        "future_date",
        "CAST(sale_timestamp AS DATE) > CAST(_run_date AS DATE)",
        "'sale_timestamp=' || s_sale_timestamp",
        "the sale is not dated after the run",
    ),
    Rule("unknown_customer_id", "_customer_key IS NULL", "'customer_id=' || s_customer_id", "customer exists"),
    Rule("unknown_product_id", "_product_key IS NULL", "'product_id=' || s_product_id", "product exists"),
    Rule(
        "unknown_store_id",
        "channel = 'store' AND _store_key IS NULL",
        "'store_id=' || coalesce(s_store_id, 'NULL')",
        "store sales name a known store",
    ),
)
DUPLICATE_REASON = "duplicate_sale_id"
REASONS: tuple[str, ...] = (*(r.reason for r in RULES), DUPLICATE_REASON)

# Derived columns of sales_fact, in schema order; each is SQL over the typed, joined record.
DERIVED: dict[str, str] = {
    "sale_date": "CAST(sale_timestamp AS DATE)",
    "processing_timestamp": "CAST(_run_ts AS TIMESTAMP)",
    "region": "coalesce(_store_region, _customer_region)",
    "profit_margin": "CAST(round((total_amount - quantity * _unit_cost) / total_amount, 4) AS DECIMAL(6,4))",
    "month_name": "strftime(sale_timestamp, '%B')",
    "quarter": "CAST(extract(quarter FROM sale_timestamp) AS INTEGER)",
    "day_of_week": "strftime(sale_timestamp, '%A')",
    "year": "CAST(extract(year FROM sale_timestamp) AS INTEGER)",
    "month": "CAST(extract(month FROM sale_timestamp) AS INTEGER)",
    "day": "CAST(extract(day FROM sale_timestamp) AS INTEGER)",
    "discount": "coalesce(discount, CAST(0 AS DECIMAL(4,3)))",
}
FROM_DIMENSIONS = {"product_name": "_product_name", "category": "_category", "customer_segment": "_customer_segment"}


def _cleaned_columns() -> str:
    """s_<field>: the raw text with empty strings as NULL (computed once, used by casts and rules).

    Text fields are trimmed; numeric and timestamp casts ignore surrounding blanks themselves, and
    trimming every field cost a third of the transform.
    """
    return ", ".join(
        f"nullif(trim(r_{field}), '') AS s_{field}" if sql_type == "VARCHAR" else f"nullif(r_{field}, '') AS s_{field}"
        for field, sql_type in CASTS.items()
    )


# What an integer field may hold: digits, a sign, blanks around. DuckDB's cast also takes "1.5" (as 2),
# "0x10" and "1e3", Spark's does not: an id or a quantity is never rounded into another one.
INTEGER_TEXT = r"^\s*[+-]?[0-9]+\s*$"


def _typed_column(field: str, sql_type: str) -> str:
    if sql_type == "VARCHAR":
        return f"s_{field} AS {field}"
    cast = f"TRY_CAST(s_{field} AS {sql_type})"
    if sql_type in ("BIGINT", "INTEGER"):
        # the cheap test first: nearly every value prints back as it was written
        return (
            f"CASE WHEN CAST({cast} AS VARCHAR) = s_{field} OR regexp_matches(s_{field}, '{INTEGER_TEXT}') "
            f"THEN {cast} END AS {field}"
        )
    return f"{cast} AS {field}"


def _typed_columns() -> str:
    return ",\n    ".join(_typed_column(field, sql_type) for field, sql_type in CASTS.items())


def _fact_columns() -> str:
    out = []
    for col in SALES_FACT_COLUMNS:
        if col.name in DERIVED:
            expr = DERIVED[col.name]
        elif col.name in FROM_DIMENSIONS:
            expr = FROM_DIMENSIONS[col.name]
        else:
            expr = col.name
        # Derived values are only computed for clean rows: a rejected row may hold values that do not fit.
        out.append(f"CASE WHEN _reason IS NULL THEN CAST({expr} AS {col.type}) END AS {col.name}")
    return ",\n  ".join(out)


# Which of several clean records sharing a sale_id is kept: the first in this order.
DEDUP_ORDER = ("_source_file", "_raw_record")
# Columns the rule stage keeps for later stages: not the raw text fields, and of the dimensions only
# what the rules asked (do the keys exist); their attributes are joined by the output stage.
_RULED_KEEP = "_source_file, _raw_record, _run_ts, " + ", ".join(CASTS)
# The dimensions' attributes the fact columns use, as (alias, dimension, column).
_ATTRIBUTES = (
    ("_customer_segment", "c", "customer_segment"),
    ("_customer_region", "c", "region"),
    ("_product_name", "p", "product_name"),
    ("_category", "p", "category"),
    ("_unit_cost", "p", "unit_cost"),
    ("_store_region", "s", "region"),
)
_ATTRIBUTE_COLUMNS = ", ".join(f"{dim}.{column} AS {alias}" for alias, dim, column in _ATTRIBUTES)


def _dimension_joins(fact: str, customers: str, products: str, stores: str) -> str:
    return (
        f"LEFT JOIN {customers} c ON c.customer_id = {fact}.customer_id "
        f"LEFT JOIN {products} p ON p.product_id = {fact}.product_id "
        f"LEFT JOIN {stores} s ON s.store_id = {fact}.store_id"
    )


def ruled_sql(records: str, customers: str, products: str, stores: str, attributes: bool = False) -> str:
    """Stage 1: cast, look the ids up in the dimensions, apply the row rules -> `_rule_reason`, `_rule_detail`.

    `records` must carry `_run_ts` and `_run_date` columns (constants per run), so the SQL text
    itself is the same from run to run. Nested subqueries, not CTEs: DuckDB materialises CTEs,
    which copied every text column three times (3x slower). With `attributes`, the dimensions'
    attributes are kept too, for an output stage that does not join them again (`checked_sql`).
    """
    reason = "CASE " + " ".join(f"WHEN {r.fails} THEN '{r.reason}'" for r in RULES) + " END"
    detail = "CASE _rule_reason " + " ".join(f"WHEN '{r.reason}' THEN {r.detail}" for r in RULES) + " END"
    keep = _RULED_KEEP + (", " + ", ".join(alias for alias, _, _ in _ATTRIBUTES) if attributes else "")
    looked_up = "c.customer_id AS _customer_key, p.product_id AS _product_key, s.store_id AS _store_key"
    if attributes:
        looked_up += ", " + _ATTRIBUTE_COLUMNS
    return f"""
SELECT {keep}, _rule_reason, {detail} AS _rule_detail FROM (
  SELECT *, {reason} AS _rule_reason FROM (
    SELECT t.*, {looked_up}
    FROM (
      SELECT *, {_typed_columns()}
      FROM (
        SELECT _source_file, _raw_record, _parse_error, _run_ts, _run_date, {_cleaned_columns()}
        FROM {records}
      ) AS cleaned
    ) AS t
    {_dimension_joins("t", customers, products, stores)}
  ) AS joined
) AS reasoned"""


def flagged_sql(ruled: str, existing_ids: str | None) -> str:
    """Stage 2: the ruled relation plus `_duplicate`, TRUE for a clean record whose sale_id was already seen.

    Seen means an earlier clean record (in DEDUP_ORDER) of this batch, or a row published by an
    earlier run (`existing_ids`, a relation with a `sale_id` column). Earlier ids are joined rather
    than tested with `IN (subquery)`, which Spark refuses outside a filter, so the same text runs on
    both engines. Engines may compute the same thing more cleverly (the DuckDB engine ranks only
    the few ids that repeat), but must agree with this definition.
    """
    order = ", ".join(DEDUP_ORDER)
    joined = (
        f" LEFT JOIN (SELECT DISTINCT sale_id AS _published_id FROM {existing_ids}) e ON e._published_id = r.sale_id"
    )
    seen = " OR e._published_id IS NOT NULL" if existing_ids else ""
    return (
        f"SELECT r.*, (r._rule_reason IS NULL AND (row_number() OVER (PARTITION BY r.sale_id, r._rule_reason IS NULL "
        f"ORDER BY {order}) > 1{seen})) AS _duplicate FROM {ruled} r{joined if existing_ids else ''}"
    )


_REASON = f"CASE WHEN _duplicate THEN '{DUPLICATE_REASON}' ELSE _rule_reason END"
_DETAIL = "CASE WHEN _duplicate THEN 'sale_id=' || CAST(sale_id AS VARCHAR) ELSE _rule_detail END"


def output_sql(flagged: str, dimensions: tuple[str, str, str] | None) -> str:
    """Stage 3: every record with `_reason` (NULL when clean), `_detail` and the fact columns.

    `flagged` is the ruled relation plus a boolean `_duplicate` column. The dimensions' attributes
    are joined here from `dimensions` (customers, products, stores), not carried from stage 1: an
    engine that materialises the ruled relation (both do) then stores four fewer strings a row,
    which cost more than the second lookup (-9% CPU on the DuckDB engine's rule stage and fact
    write together). None: `flagged` carries them already (`ruled_sql(attributes=True)`).
    """
    joins = _dimension_joins("f", *dimensions) if dimensions else ""
    attributes = f", {_ATTRIBUTE_COLUMNS}" if dimensions else ""
    return f"""
SELECT _source_file, _raw_record, _reason, {_DETAIL} AS _detail,
  {_fact_columns()}
FROM (SELECT f.*, {_REASON} AS _reason{attributes} FROM {flagged} f {joins})"""


def quarantine_sql(flagged: str) -> str:
    """Stage 3, rejected side only: source file, original record, reason and detail of each rejected row."""
    return f"""
SELECT _source_file AS source_file, _raw_record AS raw_record, {_REASON} AS reason, {_DETAIL} AS detail
FROM {flagged} WHERE _rule_reason IS NOT NULL OR _duplicate"""


def checked_sql(records: str, customers: str, products: str, stores: str, existing_ids: str | None) -> str:
    """All three stages as one SELECT (used for views, where nothing is materialised: one lookup per dimension)."""
    ruled = ruled_sql(records, customers, products, stores, attributes=True)
    output = output_sql("flagged", None)
    return f"WITH ruled AS ({ruled}\n), flagged AS ({flagged_sql('ruled', existing_ids)})\n{output}"


def spec() -> dict[str, Any]:
    """The transform as plain data, for engines that cannot import this package (the Spark job on Glue)."""
    return {
        "raw_fields": list(RAW_SALES_FIELDS),
        "casts": CASTS,
        "required": list(REQUIRED),
        "rules": [asdict(r) for r in RULES],
        "duplicate_reason": DUPLICATE_REASON,
        "derived": DERIVED,
        "dedup_order": list(DEDUP_ORDER),
        "from_dimensions": FROM_DIMENSIONS,
        "fact_columns": [asdict(c) for c in SALES_FACT_COLUMNS],
        "dialect": "duckdb",
    }
