"""DuckDB warehouse: connection, migrations, idempotent writes, views, publishing."""
