"""The `web` platform: the dashboard's playground and `morningai ask`.

Posting here means adding the reply to the playground's message log, the way Slack adds a
message to a channel. This module owns the `web_messages` table.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from core.db import Database
from core.models import ChatTask, Reply


class WebPoster:
    def __init__(self, db: Database):
        self.db = db

    def post(self, task: ChatTask, reply: Reply) -> str:
        with self.db.connection() as conn:
            # One message per task, even if a crashed run posts again: the second insert is a no-op.
            conn.execute(
                "INSERT INTO web_messages (task_id, thread, reply) VALUES (%s, %s, %s) "
                "ON CONFLICT (task_id) DO NOTHING",
                (task.id, task.thread, Jsonb(reply.to_dict())),
            )
            row = conn.execute("SELECT id FROM web_messages WHERE task_id = %s", (task.id,)).fetchone()
        return f"web:{row['id']}"
