"""LiveSettings (hub/admin/live.py): a change to the dashboard's settings or secrets, by
whoever writes it, bumps the version each process checks; a check that fails keeps the
settings in use instead of failing the request or task that happened to check."""

import logging

from hub.admin.live import LiveSettings


def _version(owner) -> int:
    return owner.execute("SELECT version FROM settings_version").fetchone()[0]


def test_every_write_to_settings_or_secrets_bumps_the_version(client, owner):
    seen = [_version(owner)]
    for write in (lambda: client.put("/api/settings", json={"chat_model": "gpt-live"}),
                  lambda: client.put("/api/secrets/OPENAI_API_KEY", json={"value": "sk-live-1"}),
                  lambda: client.delete("/api/secrets/OPENAI_API_KEY"),
                  lambda: owner.execute("DELETE FROM settings")):  # not through the API: noticed all the same
        write()
        seen.append(_version(owner))
    assert seen == sorted(set(seen))  # it moved at each


def test_a_check_that_fails_keeps_the_settings_in_use(rt, client, owner, caplog):
    assert client.put("/api/secrets/OPENAI_API_KEY", json={"value": "sk-live-1"}).status_code == 200
    live = LiveSettings(rt.db, rt.environment, check_every=0)
    assert live.current().openai_api_key.get_secret_value() == "sk-live-1"

    owner.execute("REVOKE SELECT ON settings_version FROM morningai_app")
    try:
        with caplog.at_level(logging.WARNING):
            assert live.current().openai_api_key.get_secret_value() == "sk-live-1"
        assert any("keeping the ones in use" in record.getMessage() for record in caplog.records)
    finally:
        owner.execute("GRANT SELECT ON settings_version TO morningai_app")

    assert client.put("/api/secrets/OPENAI_API_KEY", json={"value": "sk-live-2"}).status_code == 200
    assert live.current().openai_api_key.get_secret_value() == "sk-live-2"
    same = live.current()
    assert live.current() is same  # unchanged version: the same object, so nothing is rebuilt


def test_between_checks_the_settings_are_not_read_again(rt, client):
    live = LiveSettings(rt.db, rt.environment, check_every=3600)
    first = live.current()
    assert client.put("/api/settings", json={"chat_model": "gpt-later"}).status_code == 200
    assert live.current() is first and first.chat_model != "gpt-later"
