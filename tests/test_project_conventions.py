"""House style checked on the parsed manifest (dbt-project-evaluator's rules, as pytest).

Runs `dbt parse` once into a temporary target folder and reads manifest.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Models without a key, each with its reason.
NO_KEY_MODELS = {
    # marketing spend exports have no natural key (the same day/channel/campaign may be
    # exported twice legitimately); reconciliation tests on amounts guard it instead
    "stg_marketing__spend",
}
LAYER_PREFIX = {"staging": "stg_", "intermediate": "int_", "marts": ("fct_", "dim_")}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("parse_target")
    env = dict(os.environ, DBT_PROFILES_DIR=str(ROOT), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    env.setdefault("DBT_DUCKDB_PATH", str(target / "parse.duckdb"))
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), "parse", "--target-path", str(target), "--log-path", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((target / "manifest.json").read_text())


def models(manifest: dict) -> list[dict]:
    return [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "dtc_economics"
    ]


def test_model_prefixes_match_their_layer(manifest):
    for node in models(manifest):
        layer = node["fqn"][1]
        assert layer in LAYER_PREFIX, f"{node['name']}: unknown layer folder {layer}"
        assert node["name"].startswith(LAYER_PREFIX[layer]), node["original_file_path"]


def test_only_staging_reads_sources_and_each_source_has_one_staging_child(manifest):
    children: dict[str, list[str]] = {}
    for node in models(manifest):
        sources = node["depends_on"]["nodes"]
        source_parents = [s for s in sources if s.startswith("source.")]
        if source_parents:
            assert node["name"].startswith("stg_"), f"{node['name']} reads a source"
        for s in source_parents:
            children.setdefault(s, []).append(node["name"])
        if node["name"].startswith("stg_"):
            assert not [p for p in sources if p.startswith("model.")], (
                f"{node['name']}: staging reads another model"
            )
    for source, kids in children.items():
        assert len(kids) == 1, f"{source} has staging children {kids}"


def test_every_model_and_mart_column_is_documented(manifest):
    for node in models(manifest):
        assert node["description"].strip(), f"{node['name']} has no description"
        if node["fqn"][1] != "marts" or node["language"] != "sql":
            continue
        assert node["columns"], f"{node['name']}: mart without documented columns"
        for name, column in node["columns"].items():
            assert column["description"].strip(), f"{node['name']}.{name}: no description"
            assert column.get("data_type"), f"{node['name']}.{name}: no data_type"


def test_every_model_has_a_primary_key_test(manifest):
    tested: set[str] = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        meta = node.get("test_metadata") or {}
        if meta.get("name") in {"unique", "unique_combination"}:
            tested.update(node["depends_on"]["nodes"])
    for node in models(manifest):
        if node["name"] in NO_KEY_MODELS:
            continue
        assert node["unique_id"] in tested, f"{node['name']} has no unique / key test"


def test_marts_enforce_contracts(manifest):
    for node in models(manifest):
        if node["fqn"][1] == "marts" and node["language"] == "sql":
            assert node["config"]["contract"]["enforced"], node["name"]


def test_no_current_date_and_no_star_in_marts():
    for path in (ROOT / "models").rglob("*.sql"):
        text = path.read_text(encoding="utf-8").lower()
        assert not re.search(r"\b(current_date|now\(\)|current_timestamp)\b", text), path
        if "/marts/" in str(path):
            assert not re.search(r"\b\w+\.\*", text), f"{path}: table.* in a mart"
            assert text.lstrip().startswith("-- grain:"), f"{path}: first line must state grain"


def test_macro_file_name_equals_macro_name_and_is_documented():
    documented = (ROOT / "macros" / "_macros.yml").read_text(encoding="utf-8")
    for path in (ROOT / "macros").rglob("*.sql"):
        names = re.findall(r"\{%-?\s*(?:macro|test)\s+(\w+)", path.read_text(encoding="utf-8"))
        assert names, f"{path}: no macro"
        first = names[0]
        expected = path.stem.removeprefix("test_") if path.stem.startswith("test_") else path.stem
        assert first == expected, f"{path}: first macro {first} != file name"
        documented_name = f"test_{first}" if path.stem.startswith("test_") else first
        assert f"- name: {documented_name}" in documented, f"{documented_name} not in _macros.yml"


def test_warn_tests_say_why(manifest):
    """Definition tests fail the build; a test that only warns says why in its description
    (generic tests) or in its description / leading comment (singular tests)."""
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or node["package_name"] != "dtc_economics":
            continue
        if str(node["config"].get("severity", "")).lower() != "warn":
            continue
        reason = node.get("description", "").strip()
        if not reason and not node.get("test_metadata"):  # singular: the SQL's leading comment
            lines = [line.strip() for line in node["raw_code"].splitlines() if line.strip()]
            comments = [line for line in lines[:8] if line.startswith("--")]
            reason = " ".join(comments)
        assert "warn" in reason.lower(), f"{node['name']}: warn test without a reason"


def _mart_area(node: dict) -> str | None:
    """The area folder of a mart (models/marts/<area>/...), None for other models."""
    fqn = node["fqn"]
    return fqn[2] if fqn[1] == "marts" and len(fqn) > 3 else None


def test_flow_goes_one_way_intermediate_never_reads_a_mart(manifest):
    """staging -> intermediate -> marts: no intermediate model depends on a mart."""
    by_id = {n["unique_id"]: n for n in models(manifest)}
    offenders = [
        f"{node['name']} reads {by_id[parent]['name']}"
        for node in models(manifest)
        if node["fqn"][1] == "intermediate"
        for parent in node["depends_on"]["nodes"]
        if parent in by_id and by_id[parent]["fqn"][1] == "marts"
    ]
    assert not offenders, offenders


def test_marts_read_other_marts_only_in_their_area_with_a_recorded_reason(manifest):
    """A mart reads hubs; reading another area's mart is never allowed, and a same-area
    mart only with `meta: {depends_on_mart_reason: ...}` in its YAML config."""
    by_id = {n["unique_id"]: n for n in models(manifest)}
    problems = []
    for node in models(manifest):
        area = _mart_area(node)
        if area is None:
            continue
        for parent in node["depends_on"]["nodes"]:
            parent_area = _mart_area(by_id[parent]) if parent in by_id else None
            if parent_area is None:
                continue
            reason = str(node["config"].get("meta", {}).get("depends_on_mart_reason", ""))
            if parent_area != area:
                problems.append(f"{node['name']} ({area}) reads {by_id[parent]['name']}")
            elif not reason.strip():
                problems.append(f"{node['name']} reads {by_id[parent]['name']} without reason")
    assert not problems, problems


def test_intermediate_models_are_grouped_in_area_folders(manifest):
    """models/intermediate/<area>/int_*.sql, documented in a YAML file of the same folder
    (_<area>__models.yml; a topic file such as _margin__models.yml may sit beside it)."""
    for node in models(manifest):
        if node["fqn"][1] != "intermediate":
            continue
        assert len(node["fqn"]) == 4, f"{node['original_file_path']}: not in an area folder"
        area = node["fqn"][2]
        assert node["patch_path"], f"{node['name']}: no YAML entry"
        folder = node["patch_path"].split("://", 1)[-1].rsplit("/", 1)[0]
        assert folder == f"models/intermediate/{area}", (
            f"{node['name']} documented in {node['patch_path']}"
        )
