"""Generated documentation stays in sync with its single sources of truth.

The raw contract and the loader's rules are written once in code (`contract.TABLES`,
`loader.RULES`) and rendered into docs/raw_contract.md; the README links there.
"""

from __future__ import annotations

import re
from pathlib import Path

from dtc_economics import contract, loader

ROOT = Path(__file__).resolve().parents[1]
RAW_CONTRACT = (ROOT / "docs" / "raw_contract.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_raw_contract_page_lists_the_raw_contract() -> None:
    assert contract.markdown() in RAW_CONTRACT, (
        "docs/raw_contract.md drifted: paste contract.markdown()"
    )


def test_raw_contract_page_lists_the_loader_rules() -> None:
    assert loader.rules_markdown().rstrip() in RAW_CONTRACT, (
        "docs/raw_contract.md drifted: paste loader.rules_markdown()"
    )


def test_readme_points_at_the_raw_contract() -> None:
    assert "docs/raw_contract.md" in README


def test_every_contract_column_is_documented_in_the_dbt_sources() -> None:
    sources = "".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "models" / "staging").rglob("_*__sources.yml")
    )
    for table in contract.TABLES:
        assert f"- name: {table.name}" in sources, table.name
        for column in table.columns:
            assert f"- name: {column.name}" in sources, f"{table.name}.{column.name}"


def test_readme_is_a_five_minute_page() -> None:
    lines = README.count("\n")
    assert lines <= 200, f"README.md has {lines} lines: move detail to docs/ (issue 13: ~200)"


def test_readme_mart_table_lists_exactly_the_marts() -> None:
    marts = {
        p.stem
        for p in (ROOT / "models" / "marts").rglob("*")
        if p.suffix in {".sql", ".py"} and p.stem.startswith(("fct_", "dim_"))
    }
    table = README.split("## The marts", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `((?:fct|dim)_\w+)` \|", table, flags=re.M))
    assert listed == marts, (
        f"README mart table: missing {sorted(marts - listed)}, not a mart {sorted(listed - marts)}"
    )
