"""Alembic environment: runs on the connection ``storage.migrate`` hands over,
or opens one from the configured database URL (for the ``alembic`` command)."""

from __future__ import annotations

from alembic import context

from storage.database import make_sync_engine
from storage.tables import metadata

config = context.config


def _run(connection) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: run `lookout db upgrade`, or give alembic -x sqlalchemy.url=… ")
    engine = make_sync_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
