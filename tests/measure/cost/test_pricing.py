"""The price table: schema, Athena's 10 MB minimum, regions, user files merged over the shipped table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalake.errors import ConfigError
from datalake.measure.cost.pricing import SCHEMA, TB, _read_json, known_regions, load_prices, validate_prices

MB = 1024**2


def test_shipped_table_passes_its_schema_with_source_and_date() -> None:
    data = _read_json(None)
    validate_prices(data)
    assert data["source"] and data["date"] and data["currency"] == "USD"
    assert {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"} <= set(data["regions"])
    for region in data["regions"].values():
        assert set(SCHEMA) <= set(region)
        s3 = region["s3"]["storage_gb_month"]
        # the storage classes get cheaper in this order, in every region
        assert s3["STANDARD"] > s3["STANDARD_IA"] > s3["GLACIER"] > s3["DEEP_ARCHIVE"]
        assert {"STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"} <= set(region["s3"]["transition_per_1000"])
        assert "ra3.xlplus" in region["redshift"]["node_hour"]
        assert 0 < region["emr"]["spot_discount"] < 1


def test_us_east_1_list_prices() -> None:
    p = load_prices("us-east-1")
    assert p.athena_per_tb == 5.0
    assert p.s3_storage_gb_month("STANDARD") == 0.023
    assert p.s3_storage_gb_month("STANDARD_IA") == 0.0125
    assert p.s3_storage_gb_month("GLACIER") == 0.0036
    assert p.s3_storage_gb_month("DEEP_ARCHIVE") == 0.00099
    assert p.glue_dpu_hour == 0.44
    assert p.redshift_rpu_hour == 0.375
    assert p.emr_instance("m5.xlarge") == (0.192, 0.048)


def test_athena_bills_at_least_10_mb_per_query() -> None:
    p = load_prices()
    ten_mb = 10 * MB * 5.0 / TB
    assert p.athena_query_cost(0) == pytest.approx(ten_mb)
    assert p.athena_query_cost(1) == pytest.approx(ten_mb)
    assert p.athena_query_cost(10 * MB) == pytest.approx(ten_mb)
    assert p.athena_query_cost(20 * MB) == pytest.approx(2 * ten_mb)
    assert p.athena_query_cost(TB) == pytest.approx(5.0)


def test_unknown_region_names_the_known_ones() -> None:
    with pytest.raises(ConfigError) as exc:
        load_prices("mars-north-1")
    assert "mars-north-1" in exc.value.message
    assert exc.value.hint and "us-east-1" in exc.value.hint


def test_user_file_overrides_one_price_and_adds_a_region(tmp_path: Path) -> None:
    base = _read_json(None)["regions"]["us-east-1"]
    user = tmp_path / "prices.json"
    user.write_text(
        json.dumps(
            {
                "source": "my negotiated rates",
                "regions": {"us-east-1": {"athena": {"per_tb_scanned": 4.0}}, "eu-central-1": base},
            }
        )
    )
    p = load_prices("us-east-1", user)
    assert p.athena_per_tb == 4.0
    assert p.s3_storage_gb_month("STANDARD") == 0.023  # untouched prices come from the shipped table
    assert "my negotiated rates" in p.source
    assert "eu-central-1" in known_regions(user)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"regions": {"xx-1": {"athena": {"per_tb_scanned": 5}}}}', "missing key regions.xx-1.s3"),
        ('{"regions": {"us-east-1": {"athena": {"per_tb_scanned": -5}}}}', "regions.us-east-1.athena.per_tb_scanned"),
        ('{"regions": {"us-east-1": {"athena": {"per_tb_scanned": "five"}}}}', "must be a non-negative number"),
        ('{"regions": {"us-east-1": {"emr": {"spot_discount": 1.5}}}}', "spot_discount must be below 1"),
        ('{"regions": {"us-east-1": {"s3": {"storage_gb_month": []}}}}', "must be a non-empty table"),
        ('{"regions": 3}', "'regions' must be a table"),
    ],
)
def test_malformed_price_file_names_the_file_and_the_key(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as exc:
        load_prices("us-east-1", path)
    assert expected in exc.value.message
    assert str(path) in exc.value.message


def test_missing_price_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_prices("us-east-1", tmp_path / "nope.json")


def test_unknown_storage_class_and_node_type_are_clear() -> None:
    p = load_prices()
    with pytest.raises(ConfigError, match="REDUCED_REDUNDANCY"):
        p.s3_storage_gb_month("REDUCED_REDUNDANCY")
    with pytest.raises(ConfigError, match=r"ra9\.huge"):
        p.redshift_node_hour("ra9.huge")
    with pytest.raises(ConfigError, match=r"x9\.xlarge"):
        p.emr_instance("x9.xlarge")
