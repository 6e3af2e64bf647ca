"""`morningai sources …` as a user runs it, against a fake web site: add (syncing here), list,
sync again (only what changed), remove; bad input is one line naming what is wrong."""

import json
import re

from fakes.web_site import FakeSite
from faq_support import morningai


def test_a_site_is_added_listed_synced_again_and_removed_from_the_command_line(cli_env):
    with FakeSite() as site:
        site.put("/docs/", '<h1>Handbook</h1><p>How the team works.</p><a href="deploy.html">Deploy</a>')
        site.put("/docs/deploy.html", "<h1>Deploy</h1><p>Deploys go out on Tuesdays with make ship.</p>")

        added = morningai("sources", "add", "web", "--set", f"url={site.url}/docs/", "--set", "depth=1",
                          "--schedule", "60", "--workspace", "sites", env=cli_env)
        assert added.returncode == 0, added.stderr
        source_id = re.search(r"added web source .* \(([0-9a-f-]{36})\)", added.stdout)[1]
        assert "2 listed, 2 added" in added.stdout

        listed = morningai("sources", "list", "--workspace", "sites", "--json", env=cli_env)
        [row] = json.loads(listed.stdout)
        assert (row["kind"], row["status"], row["documents"], row["schedule_minutes"]) == ("web", "ready", 2, 60)
        assert "credentials" not in row

        site.put("/docs/deploy.html", "<h1>Deploy</h1><p>Deploys now go out on Thursdays.</p>")
        synced = morningai("sources", "sync", source_id, "--workspace", "sites", env=cli_env)
        assert synced.returncode == 0, synced.stderr
        assert "1 updated, 1 unchanged" in synced.stdout and "chunks embedded" in synced.stdout

        found = morningai("search", "when do deploys go out", "--workspace", "sites", "--json", env=cli_env)
        assert "Thursdays" in json.loads(found.stdout)[0]["text"]

        removed = morningai("sources", "remove", source_id, "--workspace", "sites", env=cli_env)
        assert removed.returncode == 0 and "and its 2 document(s)" in removed.stdout
        assert "has no sources" in morningai("sources", "list", "--workspace", "sites", env=cli_env).stdout


def test_bad_input_is_one_line_naming_it(cli_env):
    cases = [
        (("sources", "add", "gitlab", "--set", "url=x"), "kind: 'gitlab' is not a connector"),
        (("sources", "add", "web", "--set", "depth"), "--set 'depth': write KEY=VALUE"),
        (("sources", "add", "web", "--set", "url=docs.acme.test"), "url: a sitemap"),
        (("sources", "sync", "not-an-id"), "ID: 'not-an-id' is not a source id"),
    ]
    for args, message in cases:
        done = morningai(*args, env=cli_env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)


def test_a_failing_sync_keeps_the_knowledge_and_says_so(cli_env):
    with FakeSite() as site:
        site.put("/docs/", "<h1>Handbook</h1><p>How the team works, in one page.</p>")
        added = morningai("sources", "add", "web", "--set", f"url={site.url}/docs/", env=cli_env)
        source_id = re.search(r"\(([0-9a-f-]{36})\)", added.stdout)[1]
        site.fail("/docs/", 503, times=None)
        failed = morningai("sources", "sync", source_id, env=cli_env)
        assert failed.returncode == 1 and "sync failed, the knowledge it had is kept" in failed.stderr
        [row] = json.loads(morningai("sources", "list", "--json", env=cli_env).stdout)
        assert row["status"] == "failing" and row["documents"] == 1 and "503" in row["last_error"]
