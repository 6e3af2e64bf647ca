"""A connector's source on the real database, for the connectors' sync tests: added, synced,
and read back as the sync left it."""

from dataclasses import dataclass

from core import workspaces
from memory import store
from memory.sync import SyncReport, sync


@dataclass
class Synced:
    rt: object
    space: workspaces.Workspace
    source_id: object

    @classmethod
    def add(cls, rt, workspace: str, connector, settings: dict) -> "Synced":
        space, _ = workspaces.ensure(rt.db, workspace)
        with rt.db.workspace(space.id) as conn:
            row = store.add_source(conn, space.id, connector.kind, connector.location, connector.name, settings,
                                   None, None)
        return cls(rt, space, row["id"])

    def sync(self, connector, embedder) -> SyncReport:
        return sync(self.rt.db, embedder, workspaces.get(self.rt.db, self.space.name), self.source_id, connector)

    def stored(self) -> tuple[dict, dict]:
        """The source's row and its documents' versions by location."""
        with self.rt.db.workspace(self.space.id) as conn:
            return store.source(conn, self.source_id), store.document_versions(conn, self.source_id)
