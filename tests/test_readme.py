"""The README's generated sections stay in sync with their single sources of truth."""

from __future__ import annotations

from pathlib import Path

from dtc_economics import contract, loader

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_lists_the_raw_contract() -> None:
    assert contract.markdown() in README, "README raw contract drifted: paste contract.markdown()"


def test_readme_lists_the_loader_rules() -> None:
    assert loader.rules_markdown().rstrip() in README, (
        "README loader rules drifted: paste loader.rules_markdown()"
    )


def test_every_contract_column_is_documented_in_the_dbt_sources() -> None:
    root = Path(__file__).resolve().parents[1]
    sources = "".join(
        p.read_text(encoding="utf-8")
        for p in (root / "models" / "staging").rglob("_*__sources.yml")
    )
    for table in contract.TABLES:
        assert f"- name: {table.name}" in sources, table.name
        for column in table.columns:
            assert f"- name: {column.name}" in sources, f"{table.name}.{column.name}"
