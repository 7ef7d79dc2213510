"""The documentation: generated glossary in sync, no dangling links or file citations.

Fast (plain file parsing, no dbt build): the glossary is regenerated in memory from the doc
blocks and compared with docs/glossary.md; every Markdown file of the repository (README.md,
docs/**, CHANGELOG.md; docs/pending/ excepted) is scanned for links and backticked paths to
files that do not exist, and for anchors to headings that do not exist.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dtc_economics import glossary

ROOT = Path(__file__).resolve().parents[1]


def _markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CHANGELOG.md"]
    files += [p for p in sorted((ROOT / "docs").rglob("*.md")) if "pending" not in p.parts]
    return [p for p in files if p.exists()]


# --- glossary ----------------------------------------------------------------------------------


def test_glossary_is_up_to_date() -> None:
    on_disk = (ROOT / glossary.GLOSSARY).read_text(encoding="utf-8")
    assert on_disk == glossary.render(ROOT), (
        f"docs/glossary.md is stale: run `PYTHONPATH=src python -m dtc_economics.glossary` "
        f"({glossary.COMMAND}) and commit the result"
    )


def test_glossary_has_one_entry_per_doc_block_and_lists_users() -> None:
    text = (ROOT / glossary.GLOSSARY).read_text(encoding="utf-8")
    # independent count: doc block openings in the source files
    opened = sorted(
        m.group(1)
        for p in (ROOT / "models").rglob("_*__docs.md")
        for m in re.finditer(r"{%\s*docs\s+(\w+)\s*%}", p.read_text(encoding="utf-8"))
    )
    entries = sorted(re.findall(r"^### (\w+)$", text, flags=re.M))
    assert entries == opened
    assert len(set(entries)) == len(entries), "a definition appears twice"
    # a hand-checked usage: dim_customers.cohort_month is described by doc('cohort_month')
    section = text.split("### cohort_month\n", 1)[1].split("\n### ", 1)[0]
    assert "`dim_customers.cohort_month`" in section


def test_glossary_check_fails_when_a_doc_block_changes(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "models", tmp_path / "models")
    (tmp_path / "docs").mkdir()
    assert glossary.main(["--root", str(tmp_path)]) == 0
    assert glossary.main(["--root", str(tmp_path), "--check"]) == 0
    docs = tmp_path / "models" / "marts" / "core" / "_core__docs.md"
    docs.write_text(
        docs.read_text(encoding="utf-8").replace('The project\'s "real revenue"', "Revenue"),
        encoding="utf-8",
    )
    assert glossary.main(["--root", str(tmp_path), "--check"]) == 1
    assert glossary.render(tmp_path) == glossary.render(tmp_path), "output is not deterministic"


def test_glossary_refuses_a_doc_block_defined_twice(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "models", tmp_path / "models")
    extra = tmp_path / "models" / "marts" / "core" / "_extra__docs.md"
    extra.write_text("{% docs net_revenue %}\nanother definition\n{% enddocs %}\n")
    with pytest.raises(ValueError, match="net_revenue"):
        glossary.render(tmp_path)
