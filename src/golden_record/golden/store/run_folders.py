"""Where the store's runs keep their files, so that incremental state is found through
the store: a night or a ``golden-record match`` writing to any folder builds on the last
accepted run the store holds, wherever that run's folder is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import and_, delete, insert, select

from golden_record.golden.store import schema
from golden_record.golden.store.reading import StoreReading


class RunFolders(StoreReading):
    """The ``run_folder`` rows: one per run applied, its folder as an absolute path."""

    def keep_run_folder(self, run_key: str, folder: Path) -> None:
        """Record (or move) the folder holding ``run_key``'s files."""
        f = schema.run_folder
        with self.engine.begin() as connection:
            connection.execute(delete(f).where(f.c.run_key == run_key))
            connection.execute(
                insert(f).values(run_key=run_key, folder=str(Path(folder).resolve()))
            )

    def folder_of(self, run_key: str) -> Path | None:
        """The folder recorded for ``run_key``, if any."""
        f = schema.run_folder
        with self.engine.connect() as connection:
            folder = connection.execute(select(f.c.folder).where(f.c.run_key == run_key)).scalar()
        return Path(folder) if folder else None

    def accepted_run_folders(self, before: str) -> list[tuple[str, Path]]:
        """The accepted runs keyed before ``before`` with their folders, latest key first
        (runs taken back, or still pending, are not built on)."""
        f, r = schema.run_folder, schema.store_run
        query = (
            select(f.c.run_key, f.c.folder)
            .join(r, r.c.run_key == f.c.run_key)
            .where(and_(r.c.status == "accepted", f.c.run_key < before))
            .order_by(f.c.run_key.desc())
        )
        with self.engine.connect() as connection:
            return [(key, Path(folder)) for key, folder in connection.execute(query).tuples()]
