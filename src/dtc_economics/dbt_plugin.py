"""dbt-duckdb plugin: the SQL function ``dtc_publish`` that publishes the serving copy.

Registered on dbt's own DuckDB connection (profiles.yml, ``plugins``), so the on-run-end
macro ``publish_serving_copy`` can publish at the end of a successful ``dbt build`` /
``dbt run``: dbt holds the warehouse's write lock for the whole run, so the copy must be
read through dbt's connection rather than by a second process. The copy itself is
:func:`dtc_economics.publish.publish_catalog` (the same code ``make publish`` runs).

``dtc_publish(catalog, out)`` returns one line: ``ok: <summary>`` or ``error: <reason>``
(the macro turns an error into a failed run with that message; the previous serving file
is then unchanged).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from dtc_economics.publish import (
    DEFAULT_STORAGE_VERSION,
    PublishError,
    publish_catalog,
    summary_line,
)


def _publisher(conn: duckdb.DuckDBPyConnection) -> Any:
    def dtc_publish(catalog: str, out: str) -> str:
        cursor = conn.cursor()  # a second connection to the same database instance
        try:
            copied = publish_catalog(
                cursor, catalog, Path(out), storage_version=DEFAULT_STORAGE_VERSION
            )
        except (PublishError, duckdb.Error, OSError) as err:
            first_line = (str(err).splitlines() or [type(err).__name__])[0]
            return f"error: {first_line}; the previous serving file {out} is unchanged"
        finally:
            cursor.close()
        return "ok: " + summary_line(copied, Path(out), DEFAULT_STORAGE_VERSION)

    return dtc_publish


class Plugin(BasePlugin):
    """Registers ``dtc_publish(catalog VARCHAR, out VARCHAR) -> VARCHAR``."""

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        conn.create_function(
            "dtc_publish",
            _publisher(conn),
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            side_effects=True,
        )
