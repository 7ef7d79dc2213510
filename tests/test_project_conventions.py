"""House style checked on the parsed manifest (dbt-project-evaluator's rules, as pytest).

Reads the manifest of the session's one `dbt parse` (conftest.parsed_project).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ParsedProject

ROOT = Path(__file__).resolve().parents[1]
# Models without a key, each with its reason.
NO_KEY_MODELS = {
    # marketing spend exports have no natural key (the same day/channel/campaign may be
    # exported twice legitimately); reconciliation tests on amounts guard it instead
    "stg_marketing__spend",
}
LAYER_PREFIX = {"staging": "stg_", "intermediate": "int_", "marts": ("fct_", "dim_")}


@pytest.fixture(scope="module")
def manifest(parsed_project: ParsedProject) -> dict:
    return parsed_project.manifest


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


def key_tests(nodes: list[dict]) -> set[str]:
    """Models checked by a unique / unique_combination test among these test nodes."""
    tested: set[str] = set()
    for node in nodes:
        meta = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and meta.get("name") in {"unique", "unique_combination"}:
            # a disabled test's depends_on is left unresolved; its attached_node is set
            tested.update(node["depends_on"]["nodes"] or [node["attached_node"]])
    return tested


def constrained_columns(node: dict, kind: str) -> set[str]:
    """Columns of a model's declared constraints of one kind (model or column level)."""
    columns = {c for k in node.get("constraints", []) if k["type"] == kind for c in k["columns"]}
    for name, column in node["columns"].items():
        if any(k["type"] == kind for k in column.get("constraints", [])):
            columns.add(name)
    return columns


def primary_key(node: dict) -> set[str]:
    """Columns of a model's declared primary_key constraint (model or column level)."""
    return constrained_columns(node, "primary_key")


def not_null_constrained(node: dict) -> set[str]:
    """Columns of a model's declared not_null constraints (column or model level)."""
    return constrained_columns(node, "not_null")


def enforces_constraints(node: dict) -> bool:
    """DuckDB and PostgreSQL enforce this model's constraints at write time: a SQL table or
    incremental model with an enforced contract (dbt applies no constraint to a view, and a
    Python model has no enforced contract)."""
    return (
        node["language"] == "sql"
        and node["config"]["materialized"] in {"table", "incremental"}
        and bool(node["config"]["contract"]["enforced"])
    )


RULE_TESTS = ("accepted_range", "accepted_values", "expression_is_true")
VAR_CALL = re.compile(r"\{\{\s*var\(\s*(['\"])(\w+)\1\s*\)\s*\}\}")


def project_vars() -> dict:
    """dbt_project.yml's vars (the defaults a parse renders into constraint expressions)."""
    import yaml

    return yaml.safe_load((ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def check_expression(test: dict, variables: dict) -> str:
    """The check constraint that states a row rule test's rule, with the test's semantics:
    accepted_range and accepted_values let a null pass (so does a check); expression_is_true
    fails a null (hence the coalesce), on the rows its where / where_clause keep."""
    meta = test["test_metadata"]
    kwargs, column = meta["kwargs"], test.get("column_name")

    def text(value: object) -> str:
        rendered = VAR_CALL.sub(lambda m: str(variables[m.group(2)]), str(value))
        return " ".join(rendered.split())

    if meta["name"] == "accepted_range":
        bounds = [(">=", kwargs.get("min_value")), ("<=", kwargs.get("max_value"))]
        return " and ".join(f"{column} {op} {v}" for op, v in bounds if v is not None)
    if meta["name"] == "accepted_values":
        assert kwargs.get("quote", True), test["name"]
        values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in kwargs["values"])
        return f"{column} in ({values})"
    rule = f"coalesce(({text(kwargs['expression'])}), false)"
    kept = [text(c) for c in (kwargs.get("where_clause"), test["config"].get("where")) if c]
    return f"not coalesce(({') and ('.join(kept)}), false) or {rule}" if kept else rule


def check_constraints(node: dict) -> set[tuple[str | None, str]]:
    """(column or None for the model level, expression) of a model's check constraints."""
    found = {(None, c["expression"]) for c in node.get("constraints", []) if c["type"] == "check"}
    for name, column in node.get("columns", {}).items():
        for c in column.get("constraints", []):
            if c["type"] == "check":
                found.add((name, c["expression"]))
    return found


def spark_only_tests(manifest: dict) -> list[dict]:
    """Tests disabled on this (DuckDB) target: the ones that repeat an enforced primary key,
    an enforced not_null constraint or an enforced check constraint."""
    return [n for v in manifest["disabled"].values() for n in v if n["resource_type"] == "test"]


def ancestors(manifest: dict, unique_id: str) -> set[str]:
    """Every node a node depends on, directly or not."""
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        node = manifest["nodes"].get(todo.pop())
        for parent in node.get("depends_on", {}).get("nodes", []) if node else []:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def key_checked_downstream(manifest: dict, node: dict) -> bool:
    """meta key_checked_by: '<model>.<column>' on a 1:1 pass of a chain (int_orders_validated
    -> int_orders_netted): the named model reads this one (directly or not), has an enabled
    unique test on that column, and this model has the column. A fan-out in the pass reaches
    the named model row for row, so its key test fails (issue 13: one key test per chain)."""
    target = node["config"].get("meta", {}).get("key_checked_by")
    if not target:
        return False
    name, column = target.split(".")
    assert column in node["columns"], f"{node['name']}: key_checked_by column {column}"
    checker = next(n for n in models(manifest) if n["name"] == name)
    assert node["unique_id"] in ancestors(manifest, checker["unique_id"]), node["name"]
    return any(
        test["resource_type"] == "test"
        and (test.get("test_metadata") or {}).get("name") == "unique"
        and test.get("column_name") == column
        and checker["unique_id"] in test["depends_on"]["nodes"]
        for test in manifest["nodes"].values()
    )


def test_every_model_has_a_primary_key_test(manifest):
    """Every model has a key test; where the contract enforces a primary key (DuckDB,
    PostgreSQL) the database is that check and the key's test runs on Spark only; a 1:1 pass
    of a chain may name the downstream model whose key test checks it (key_checked_by)."""
    tested = key_tests(list(manifest["nodes"].values()))
    spark_only = key_tests(spark_only_tests(manifest))
    for node in models(manifest):
        if node["name"] in NO_KEY_MODELS:
            continue
        if node["unique_id"] in tested or key_checked_downstream(manifest, node):
            continue
        assert node["unique_id"] in spark_only, f"{node['name']} has no unique / key test"
        assert node["config"]["contract"]["enforced"] and primary_key(node), node["name"]


def key_checked_on_duckdb(manifest: dict, model: dict, key: set[str]) -> bool:
    """The database enforces this key (a table or incremental model with an enforced
    primary key), or the model is a view whose rows are a model parent's and that parent's
    key is checked: an enabled unique / unique_combination test on the same key, or again
    enforced or a view (fct_orders_valid -> fct_orders -> the hub int_orders_netted)."""
    if model["config"]["materialized"] in {"table", "incremental"}:
        return bool(model["config"]["contract"]["enforced"]) and primary_key(model) == key
    if model["config"]["materialized"] != "view":
        return False
    for parent_id in model["depends_on"]["nodes"]:
        parent = manifest["nodes"].get(parent_id)
        if parent is None or parent["resource_type"] != "model":
            continue
        for test in manifest["nodes"].values():
            meta = test.get("test_metadata") or {}
            if test["resource_type"] != "test" or parent_id not in test["depends_on"]["nodes"]:
                continue
            if meta.get("name") == "unique" and {test.get("column_name")} == key:
                return True
            if meta.get("name") == "unique_combination" and set(meta["kwargs"]["columns"]) == key:
                return True
        if primary_key(parent) == key and key_checked_on_duckdb(manifest, parent, key):
            return True
    return False


def test_only_enforced_key_not_null_and_check_tests_are_spark_only(manifest):
    """A data test is switched off on DuckDB only when the database checks it anyway:
    unique / not_null on a key column, unique_combination on exactly the key, of a model
    whose enforced primary key the database checks, or of a view over a parent whose key is
    checked (a key test or an enforced key); not_null on a column whose not_null
    constraint the database enforces (a table mart with an enforced contract); or a row rule
    (accepted_range, accepted_values, expression_is_true) whose rule the model's enforced
    check constraint states, word for word as check_expression writes it."""
    by_id = {**manifest["nodes"]}
    variables = project_vars()
    disabled = spark_only_tests(manifest)
    assert disabled, "the key tests of enforced primary keys are expected to be Spark-only"
    for test in disabled:
        meta = test.get("test_metadata") or {}
        model = by_id[test["attached_node"]]
        if meta.get("name") == "not_null" and test["column_name"] in not_null_constrained(model):
            assert str(test["config"]["enabled"]) == "False", test["name"]
            assert enforces_constraints(model), test["name"]
            continue
        if meta.get("name") in RULE_TESTS:
            assert str(test["config"]["enabled"]) == "False", test["name"]
            assert enforces_constraints(model), test["name"]
            rule = (test.get("column_name"), check_expression(test, variables))
            assert rule in check_constraints(model), f"{test['name']}: no check constraint {rule}"
            continue
        key = primary_key(model)
        assert model["config"]["contract"]["enforced"] and key, test["name"]
        assert key_checked_on_duckdb(manifest, model, key), test["name"]
        assert str(test["config"]["enabled"]) == "False", test["name"]
        if meta.get("name") == "unique_combination":
            assert set(meta["kwargs"]["columns"]) == key, test["name"]
        elif meta.get("name") == "unique":
            assert {test["column_name"]} == key, test["name"]
        else:
            assert meta.get("name") == "not_null" and test["column_name"] in key, test["name"]


def test_every_not_null_constraint_is_enforced_and_keeps_its_spark_test(manifest):
    """A not_null constraint is declared only where DuckDB and PostgreSQL enforce it, and the
    column keeps its not_null data test, Spark-only (disabled here): Spark enforces no
    contract (docs/spark.md), so there the test is the check."""
    spark_only = {
        (test["attached_node"], test["column_name"])
        for test in spark_only_tests(manifest)
        if (test.get("test_metadata") or {}).get("name") == "not_null"
    }
    constrained = [(node, c) for node in models(manifest) for c in not_null_constrained(node)]
    assert constrained, "marts with enforced contracts are expected to declare not_null"
    for node, column in constrained:
        where = f"{node['name']}.{column}"
        assert enforces_constraints(node), f"{where}: not_null constraint nothing enforces"
        assert (node["unique_id"], column) in spark_only, f"{where}: no Spark-only not_null test"


def test_every_check_constraint_is_enforced_and_keeps_its_spark_test(manifest):
    """A check constraint is declared only where DuckDB and PostgreSQL enforce it, and states
    the rule of a row rule data test kept Spark-only (Spark enforces no contract), so the
    rule holds on every target and the two cannot drift apart: editing one of them fails
    this test or the one above."""
    variables = project_vars()
    spark_only: set[tuple[str, str | None, str]] = set()
    for test in spark_only_tests(manifest):
        if (test.get("test_metadata") or {}).get("name") in RULE_TESTS:
            column = test.get("column_name")
            spark_only.add((test["attached_node"], column, check_expression(test, variables)))
    declared = [(node, rule) for node in models(manifest) for rule in check_constraints(node)]
    assert len(declared) > 200, "the marts are expected to state their row rules as checks"
    for node, (column, expression) in declared:
        where = f"{node['name']}.{column or '(model)'}: {expression}"
        assert enforces_constraints(node), f"{where}: check constraint nothing enforces"
        assert (node["unique_id"], column, expression) in spark_only, f"{where}: no Spark test"


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


def test_relation_names_fit_postgres_identifiers(manifest):
    """Model and unit-test names become relation names (a unit test builds a relation named
    after itself): PostgreSQL refuses identifiers over 63 characters, so the PostgreSQL
    target's build would fail on a longer one."""
    long_names = [
        n["name"]
        for n in [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]
        if n["resource_type"] in ("model", "unit_test", "seed") and len(n["name"]) > 63
    ]
    assert not long_names, long_names
