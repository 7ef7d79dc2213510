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


# --- links and file citations --------------------------------------------------------------------

LINK = re.compile(r"(?<!\\)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
BARE_MD = re.compile(r"(?<![\w/.*<>-])([\w-]+\.md)\b")
# backticked text that cites a repository path: a known top-level folder or file
CITED_ROOTS = (
    "analyses/",
    "bench/",
    "docker/",
    "docs/",
    "macros/",
    "models/",
    "scripts/",
    "seeds/",
    "src/",
    "tests/",
    ".ci/",
)
CITED_FILES = {
    "README.md",
    "CHANGELOG.md",
    "Makefile",
    "profiles.yml",
    "dbt_project.yml",
    "docker-compose.yml",
    "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-spark.txt",
}
# outputs written by builds, benchmarks and tests (git-ignored), cited but never committed
GENERATED = ("bench/results/tmp/", "tests/fixtures/bad_input/<", "docs/pending/")


def _strip_fences(text: str) -> str:
    """The text without fenced code blocks (their `#` lines are not headings)."""
    return re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.M | re.S)


def github_anchors(text: str) -> set[str]:
    """Heading anchors as GitHub renders them (duplicates get -1, -2, ...)."""
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    for match in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", _strip_fences(text), flags=re.M):
        heading = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    prose = _strip_fences(text)
    rel = path.relative_to(ROOT).as_posix()
    problems: list[str] = []
    for target in LINK.findall(prose):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists() or ROOT not in dest.parents and dest != ROOT:
            problems.append(f"{rel}: link to missing file {target}")
            continue
        if anchor and dest.suffix == ".md":
            if anchor not in github_anchors(dest.read_text(encoding="utf-8")):
                problems.append(f"{rel}: link to missing heading {target}")
    for span in CODE_SPAN.findall(prose):
        cited = span.strip().rstrip(".,:;")
        if " " in cited or cited.startswith(GENERATED):
            continue
        if not (cited.startswith(CITED_ROOTS) or cited in CITED_FILES):
            continue
        cited = re.sub(r"[:#].*$", "", cited)  # path:line, path#anchor
        if any(ch in cited for ch in "*?<>{}"):
            if not list(ROOT.glob(re.sub(r"<[^>]*>|\{[^}]*\}", "*", cited))):
                problems.append(f"{rel}: `{span}` matches no file")
        elif not (ROOT / cited).exists():
            problems.append(f"{rel}: cites missing `{span}`")
    names = {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}
    for name in BARE_MD.findall(LINK.sub("", prose)):
        if name not in names:
            problems.append(f"{rel}: mentions {name}, which is not in the repository")
    return problems


def test_markdown_files_exist_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _markdown_files()}
    assert {"README.md", "docs/glossary.md", "docs/raw_contract.md"} <= names


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_dangling_link_or_citation(path: Path) -> None:
    assert _problems(path) == []


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    page = ROOT / "docs" / "_link_check_probe.md"
    page.write_text(
        "# Probe\n\n[gone](gone.md), [bad anchor](#nowhere), [ok](#probe), "
        "see `scripts/not_a_script.py` and definitions.md.\n",
        encoding="utf-8",
    )
    try:
        found = _problems(page)
    finally:
        page.unlink()
    assert len(found) == 4, found
    assert github_anchors("## Serving the marts\n## `make build` (demo)\n## A\n## A\n") == {
        "serving-the-marts",
        "make-build-demo",
        "a",
        "a-1",
    }


# --- PostgreSQL credentials: one set of defaults ---------------------------------------------


def test_postgres_defaults_agree_across_services_loader_and_profile() -> None:
    from dtc_economics import load_postgres

    services = (ROOT / "scripts" / "ci_services.sh").read_text(encoding="utf-8")
    profiles = (ROOT / "profiles.yml").read_text(encoding="utf-8")
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        in_services = re.search(rf"^{var}=\$\{{{var}:-([^}}]*)\}}", services, flags=re.M)
        in_profile = re.search(rf"env_var\('{var}', '([^']*)'\)", profiles)
        assert in_services and in_profile, var
        assert in_services.group(1) == in_profile.group(1) == load_postgres.PG_DEFAULTS[var], (
            f"{var}: ci_services.sh {in_services.group(1)!r}, profiles.yml "
            f"{in_profile.group(1)!r}, load_postgres {load_postgres.PG_DEFAULTS[var]!r}"
        )
    serving = (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")
    assert "`PGPASSWORD` (`dtc`)" in serving, "docs/serving.md documents the defaults"
