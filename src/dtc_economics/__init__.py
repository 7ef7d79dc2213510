"""Customer-economics warehouse helpers: raw contract, loader, demo generator, models."""

# profiles.yml's default for DBT_DUCKDB_MEMORY_LIMIT, for the DuckDB connections Python opens
# without dbt (the serving copy, the benchmark and its floor); docs/decisions.md, memory_limit.
# tests/test_publish.py fails when the two differ.
DEFAULT_MEMORY_LIMIT = "1.8GB"
