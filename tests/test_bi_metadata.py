"""Metadata BI tools read: Metabase semantic types, primary keys, comments, exposures.

Checked on the parsed manifest (what dbt-metabase reads) and on the built fixture warehouse
(what a BI tool's sync reads: table and column comments written by persist_docs).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import ParsedProject

ROOT = Path(__file__).resolve().parents[1]

# Metabase semantic types used by this project (metabase/metabase's type hierarchy).
SEMANTIC_TYPES = {
    "type/PK",
    "type/FK",
    "type/Category",
    "type/Name",
    "type/Title",
    "type/Source",
    "type/Quantity",
    "type/Score",
    "type/Currency",
    "type/Price",
    "type/Discount",
    "type/Income",
    "type/Cost",
    "type/GrossMargin",
    "type/Percentage",
    "type/Duration",
    "type/CreationTimestamp",
    "type/CreationDate",
    "type/JoinTimestamp",
    "type/JoinDate",
    "type/UpdatedTimestamp",
    "type/UpdatedDate",
    "type/CancelationTimestamp",
    "type/CancelationDate",
    "type/Description",
    "type/Comment",
    "type/Country",
    "type/State",
    "type/City",
    "type/ZipCode",
    "type/Email",
    "type/URL",
    "type/Company",
}
MONEY_TYPES = {"type/Currency", "type/Price", "type/Discount", "type/Income", "type/Cost"}
# Dashboards the project recommends (README "Serving the marts"); each must be a dbt exposure.
RECOMMENDED_DASHBOARDS = {"five_numbers", "cohorts", "acquisition", "first_products"}


@pytest.fixture(scope="module")
def manifest(parsed_project: ParsedProject) -> dict:
    return parsed_project.manifest


def marts(manifest: dict) -> list[dict]:
    return [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["package_name"] == "dtc_economics"
        and n["fqn"][1] == "marts"
    ]


def test_every_mart_column_has_a_metabase_semantic_type(manifest: dict) -> None:
    problems = []
    for node in marts(manifest):
        for name, column in node["columns"].items():
            meta = column.get("meta") or {}
            semantic = meta.get("metabase.semantic_type")
            where = f"{node['name']}.{name}"
            if semantic not in SEMANTIC_TYPES:
                problems.append(f"{where}: metabase.semantic_type {semantic!r}")
            elif semantic in MONEY_TYPES and meta.get("currency") != "EUR":
                problems.append(f"{where}: money column without `currency: EUR` meta")
    assert not problems, "\n".join(problems)


def test_every_mart_declares_a_primary_key_constraint(manifest: dict) -> None:
    for node in marts(manifest):
        model_level = [c for c in node.get("constraints", []) if c["type"] == "primary_key"]
        column_level = [
            name
            for name, column in node["columns"].items()
            if any(c["type"] == "primary_key" for c in column.get("constraints", []))
        ]
        assert model_level or column_level, f"{node['name']}: no primary_key constraint"
        keys = model_level[0]["columns"] if model_level else column_level
        if len(keys) == 1:  # Metabase models single-column keys; composite grains keep
            key = keys[0]  # their columns' own semantic types (dates, categories)
            semantic = (node["columns"][key].get("meta") or {}).get("metabase.semantic_type")
            assert semantic == "type/PK", f"{node['name']}.{key}: key without type/PK"


def test_marts_persist_docs_to_the_database(manifest: dict) -> None:
    for node in marts(manifest):
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, node["name"]


def test_comments_reach_the_duckdb_warehouse(fixture_db: duckdb.DuckDBPyConnection) -> None:
    tables = fixture_db.execute(
        "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
    ).fetchall()
    assert tables
    for table, comment in tables:
        assert comment, f"marts.{table}: no table comment"
    missing = fixture_db.execute(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where schema_name = 'marts' and coalesce(comment, '') = ''"
    ).fetchall()
    assert not missing, f"columns without comment: {missing[:10]}"


def test_recommended_dashboards_are_exposures_and_every_mart_is_exposed(manifest: dict) -> None:
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert RECOMMENDED_DASHBOARDS <= set(exposures)
    for name in RECOMMENDED_DASHBOARDS:
        assert exposures[name]["type"] == "dashboard"
        assert exposures[name]["depends_on"]["nodes"], f"exposure {name} reads no mart"
    exposed = {n for e in exposures.values() for n in e["depends_on"]["nodes"]}
    unexposed = sorted(n["name"] for n in marts(manifest) if n["unique_id"] not in exposed)
    assert not unexposed, (
        f"marts in no exposure: {unexposed}; add them to models/exposures.yml (TODO(lead))"
    )
