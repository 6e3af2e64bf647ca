import psycopg
import pytest

from core.db import Database
from hub import migrate


def test_migrations_apply_once_and_twice_is_a_no_op(empty_database):
    db = Database(empty_database)
    assert [m.version for m in migrate.migrate(db)] == [m.version for m in migrate.available()]
    assert migrate.migrate(db) == []
    assert migrate.pending(db) == []
    with psycopg.connect(empty_database) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [m.version for m in migrate.available()]
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    db.close()


def test_the_hub_runs_as_a_role_that_does_not_own_the_tables(rt, owner):
    with rt.db.connection() as conn:
        assert conn.execute("SELECT current_user AS u").fetchone()["u"] == "morningai_app"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE tasks")
    assert owner.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'tasks'").fetchone()[0] != "morningai_app"


def test_discord_channel_settings_move_into_the_one_channel_settings_table(empty_database):
    """0010 folds discord_channels into channel_settings, keeping what was set."""
    db = Database(empty_database)
    before = [m for m in migrate.available() if m.version < "0010"]
    with db.owner_connection() as conn:
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        for migration in before:
            conn.execute(migration.sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                         (migration.version, migration.name))
        conn.execute("INSERT INTO discord_channels (channel_id, follow_ups) VALUES "
                     "('900000000000000004', true), ('900000000000000005', false)")
        conn.execute("INSERT INTO channel_settings (platform, channel, follow_ups) VALUES ('slack', 'C0123ABCD', true)")
    assert "0010" in [m.version for m in migrate.migrate(db)]
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute("SELECT platform, channel, follow_ups, enabled, sources, kinds FROM channel_settings "
                            "ORDER BY platform, channel").fetchall()
        assert rows == [("discord", "900000000000000004", True, True, None, None),
                        ("discord", "900000000000000005", False, True, None, None),
                        ("slack", "C0123ABCD", True, True, None, None)]
        assert conn.execute("SELECT to_regclass('discord_channels')").fetchone()[0] is None
        with pytest.raises(psycopg.errors.CheckViolation):  # an id of the wrong platform is refused
            conn.execute("INSERT INTO channel_settings (platform, channel) VALUES ('discord', 'C0123ABCD')")


def test_discord_votes_move_into_the_one_feedback_table(empty_database, monkeypatch):
    everything = migrate.available()
    monkeypatch.setattr(migrate, "available", lambda: [m for m in everything if m.version < "0011"])
    db = Database(empty_database)
    migrate.migrate(db)  # a hub from before the merge, with votes in both tables
    with psycopg.connect(empty_database, autocommit=True) as conn:
        for task, platform in (("00000000-0000-4000-8000-000000000001", "discord"),
                               ("00000000-0000-4000-8000-000000000002", "slack")):
            conn.execute("INSERT INTO tasks (id, platform, platform_event_id, workspace_id, text, kind, trace_id) "
                         "SELECT %s, %s, %s, id, 'q', 'ask', gen_random_uuid() FROM workspaces", (task, platform, task))
        conn.execute("""INSERT INTO discord_feedback (task_id, user_id, vote, updated_at) VALUES
                        ('00000000-0000-4000-8000-000000000001', '9001', -1, now() - interval '1 day'),
                        ('00000000-0000-4000-8000-000000000001', '9002', 1, now())""")
        # The same user's vote in both tables: the later one is kept.
        conn.execute("INSERT INTO feedback (task_id, user_id, vote, updated_at) VALUES "
                     "('00000000-0000-4000-8000-000000000001', '9002', -1, now() - interval '2 days'), "
                     "('00000000-0000-4000-8000-000000000002', 'U1', 1, now())")

    monkeypatch.setattr(migrate, "available", lambda: everything)
    assert [m.version for m in migrate.migrate(db)] == [m.version for m in everything if m.version >= "0011"]
    with psycopg.connect(empty_database) as conn:
        votes = conn.execute("SELECT task_id::text, user_id, vote, reviewed_at FROM feedback ORDER BY 1, 2").fetchall()
        assert votes == [("00000000-0000-4000-8000-000000000001", "9001", -1, None),
                         ("00000000-0000-4000-8000-000000000001", "9002", 1, None),
                         ("00000000-0000-4000-8000-000000000002", "U1", 1, None)]
        assert conn.execute("SELECT to_regclass('discord_feedback')").fetchone()[0] is None
    db.close()
