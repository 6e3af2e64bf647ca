"""The dashboard end to end, as a newcomer uses it: headless Chromium (Debian's, driven by
Playwright) against a real `morningai up`. A screenshot of each page goes to tests/artifacts/."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests
from conftest import ROOT
from fakes import FakeOpenAI
from fakes.slack_server import FakeSlack
from support import admin_session, stop_up, wait_for
from test_cli import _free_port, _ready

playwright = pytest.importorskip("playwright.sync_api")

ARTIFACTS = ROOT / "tests" / "artifacts"
DASHBOARD = ROOT / "dashboard"
EMAIL, PASSWORD = "admin@example.com", "correct horse battery"


@pytest.fixture(scope="module")
def built_dashboard():
    """dashboard/dist, built as `make run` builds it when this test runs outside `make test`."""
    if not (DASHBOARD / "dist" / "index.html").exists():
        subprocess.run("npm ci --no-audit --no-fund && npm run build", shell=True, cwd=DASHBOARD, check=True)
    return DASHBOARD / "dist"


@contextmanager
def _up(tmp_path, **settings: str) -> Iterator[str]:
    """A `morningai up` of its own, with an admin account; yields its URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY")}
    env.update(MORNINGAI_HOME=str(tmp_path / "home"), PORT=str(_free_port()), WEB_CONCURRENCY="1",
               MORNINGAI_EMBEDDINGS="hash", MORNINGAI_ADMIN_EMAIL=EMAIL, MORNINGAI_ADMIN_PASSWORD=PASSWORD,
               **settings)
    log = open(tmp_path / "up.log", "w+")
    up = subprocess.Popen([sys.executable, "-m", "hub", "up"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_for(lambda: _ready(url), timeout=90, what="the hub to be ready")
        yield url
    finally:
        stop_up(up, log)


@pytest.fixture
def hub(built_dashboard, tmp_path):
    with _up(tmp_path) as url:
        yield url


@pytest.fixture
def page():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Debian's chromium is needed: `make test` installs it (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.set_default_timeout(30_000)
        yield tab
        browser.close()


def _nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in_and_add(page, tmp_path, name: str, text: str) -> None:
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    _nav(page, "Knowledge")
    (tmp_path / name).write_text(text)
    page.get_by_label("Markdown, text, HTML, PDF or source files").set_input_files(str(tmp_path / name))
    playwright.expect(page.get_by_role("cell", name="ready")).to_be_visible()


def test_the_playground_shows_the_answer_as_the_model_writes_it(built_dashboard, page, tmp_path):
    expect = playwright.expect
    with FakeOpenAI(dims=8, token_delay=0.12) as model, \
            _up(tmp_path, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=model.base_url) as hub:
        model.reply_with("Connect with WireGuard [1]. The config file is in the IT wiki under Remote access, "
                         "and the IT desk hands out new keys when yours expires or a laptop is replaced [1].")
        page.goto(hub)
        _log_in_and_add(page, tmp_path, "vpn.md", "# VPN\n\nConnect to the office VPN with WireGuard. The config "
                        "file is in the IT wiki under Remote access; ask the IT desk for a new key.\n")
        _nav(page, "Playground")
        page.get_by_label("Message").fill("How do I connect to the VPN?")
        page.get_by_role("button", name="Send").click()

        # Mid-stream: the first words are there, the end and the sources are not yet.
        so_far = page.get_by_label("Answer so far")
        expect(so_far).to_contain_text("Connect with WireGuard [1].")
        expect(so_far).not_to_contain_text("laptop is replaced")
        expect(page.get_by_role("list", name="Sources")).to_have_count(0)
        _shot(page, "13-playground-streaming")

        expect(page.get_by_role("list", name="Sources")).to_contain_text("vpn.md")
        expect(page.get_by_text("a laptop is replaced [1].")).to_be_visible()
        _shot(page, "14-playground-streamed")


def test_the_support_page_shows_a_draft_and_a_question_handed_over(built_dashboard, page, tmp_path, database_url,
                                                                   redis_url):
    expect = playwright.expect
    with _up(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url) as hub:
        page.goto(hub)
        _log_in_and_add(page, tmp_path, "deploy.md", "# Deploying\n\nRun `make deploy` once the checks pass. "
                        "Deploys freeze on Fridays; the release manager reviews the release notes.\n")
        admin = admin_session(hub, EMAIL, PASSWORD)
        draft, handed = (admin.post(f"{hub}/api/messages", json={"text": text}, timeout=10).json()["id"]
                         for text in ("How do we deploy?", "Who reviews the release notes?"))
        wait_for(lambda: all(admin.get(f"{hub}/api/tasks/{id_}", timeout=5).json()["status"] == "posted"
                             for id_ in (draft, handed)), timeout=60, what="both answers")
        # The playground has no draft mode and no "Ask a person" button (Slack's are in
        # test_support_desk.py): the first answer is held as a draft would be, the second handed over.
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE tasks SET status = 'drafted' WHERE id = %s", (draft,))
            conn.execute("INSERT INTO task_support (task_id, escalated_at, escalated_by) "
                         "VALUES (%s, now() - interval '12 minutes', %s)", (handed, EMAIL))

        _nav(page, "Support")
        expect(page.get_by_role("article", name="How do we deploy?")).to_contain_text("make deploy")
        row = page.get_by_role("row").filter(has_text="Who reviews the release notes?")
        expect(row).to_contain_text("12 min")
        _shot(page, "15-support")
        row.get_by_role("button", name="Resolve “Who reviews the release notes?”").click()
        expect(page.get_by_text("Nobody asked for a person")).to_be_visible()

        # The Overview counts it: handed over, then resolved by a person; a gap to write up.
        _nav(page, "Overview")
        desk = page.get_by_role("region", name="Support desk")
        expect(desk.get_by_text("Resolved", exact=True).locator("xpath=following-sibling::dd[1]")).to_have_text("1")
        expect(page.get_by_role("region", name="Coverage gaps")).to_contain_text("Write: “Who reviews the release notes”")
        _shot(page, "16-overview-support")


def _header_gaps(page) -> list[float]:
    """The room between each table header's text and the next one's, in pixels."""
    return page.evaluate("""() => [...document.querySelectorAll("thead tr")].flatMap((row) => {
        const boxes = [...row.querySelectorAll("th")].map((th) => {
            const range = document.createRange(); range.selectNodeContents(th); return range.getBoundingClientRect();
        }).filter((box) => box.width > 1);  // not the screen-reader-only "Actions"
        return boxes.slice(1).map((box, i) => box.left - boxes[i].right);
    })""")


def _knowledge_fits_laptop_and_narrow_windows(page, tmp_path) -> None:
    """Sources named as people know them, headers apart, and the table scrolling inside its card
    rather than widening the page, at a laptop's width and a narrow window's."""
    expect = playwright.expect
    folder = tmp_path / "team-handbook"
    folder.mkdir()
    (folder / "holidays.md").write_text("# Holidays\n\nTwenty-five days a year; book them two weeks ahead.\n")
    page.get_by_label("Path on the hub's machine, git repository or https:// URL").fill(str(folder))
    page.get_by_role("button", name="Add and ingest").click()
    expect(page.get_by_role("cell", name="ready")).to_have_count(2)
    sources = page.get_by_role("region", name="Sources")
    expect(sources.get_by_text("vpn.md", exact=True)).to_be_visible()  # not the hub's path to the upload
    expect(sources.get_by_text("team-handbook", exact=True)).to_be_visible()
    expect(sources).not_to_contain_text("/uploads/")
    expect(page.get_by_label("Embedder")).to_contain_text("Embedder: hash — MORNINGAI_EMBEDDINGS=hash is set")
    _fits(page, 1280, "03a-knowledge-laptop")
    _fits(page, 420, "03b-knowledge-narrow")


def _fits(page, width: int, shot: str | None = None) -> None:
    """At this window width, the page's table headers stand apart and the page is no wider than
    the window (a wide table scrolls inside its card); then back to the laptop's width."""
    page.set_viewport_size({"width": width, "height": 900})
    if shot:
        _shot(page, shot)
    assert min(_header_gaps(page)) >= 8, f"table headers run together at {width}px"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the page overflows at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_newcomer_logs_in_adds_knowledge_asks_and_reviews(hub, page, tmp_path):
    expect = playwright.expect
    assert requests.get(f"{hub}/api/tasks", timeout=5).status_code == 401

    page.goto(hub)
    expect(page.get_by_role("heading", name="Log in to MorningAI hub")).to_be_visible()
    _shot(page, "01-login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_text("No questions in the last 24 hours")).to_be_visible()
    _shot(page, "02-overview-empty")

    # Knowledge: upload a Markdown file, watch the ingest finish, find it by search.
    handbook = tmp_path / "vpn.md"
    handbook.write_text("# VPN\n\nConnect to the office VPN with WireGuard. The WireGuard config file is "
                        "in the IT wiki under Remote access; ask the IT desk for a new key.\n")
    _nav(page, "Knowledge")
    expect(page.get_by_text("No knowledge in this workspace yet")).to_be_visible()
    page.get_by_label("Markdown, text, HTML, PDF or source files").set_input_files(str(handbook))
    expect(page.get_by_text("1 of 1 files")).to_be_visible()
    expect(page.get_by_text("finished", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="ready")).to_be_visible()
    page.get_by_label("Search the knowledge").fill("wireguard config")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("list", name="Search results")).to_contain_text("vpn.md")
    _shot(page, "03-knowledge")
    _knowledge_fits_laptop_and_narrow_windows(page, tmp_path)

    # Playground: two questions, one cited answer; asked questions become FAQ drafts.
    _nav(page, "Playground")
    page.get_by_label("Message").fill("Where is the WireGuard config file?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("list", name="Sources")).to_contain_text("vpn.md")
    page.get_by_label("Message").fill("How do I book a meeting room?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("link", name="Open task")).to_have_count(2)
    page.get_by_text("Trace").first.click()
    _shot(page, "04-playground")

    # The task of the cited answer, with its trace.
    page.get_by_role("link", name="Open task").first.click()
    expect(page.get_by_role("heading", name="Task")).to_be_visible()
    expect(page.get_by_role("list", name="Trace")).to_contain_text("retrieve")
    expect(page.get_by_role("list", name="Sources")).to_contain_text("vpn.md")
    _shot(page, "05-task-trace")
    page.get_by_role("link", name="All tasks").click()
    expect(page.get_by_text("2 task(s)")).to_be_visible()
    _shot(page, "06-tasks")
    _fits(page, 420)

    # FAQs: draft from the questions asked, approve the draft.
    _nav(page, "FAQs")
    expect(page.get_by_text("No drafts to review")).to_be_visible()
    page.get_by_role("button", name="Draft FAQs from questions").click()
    approve = page.get_by_role("button", name=re.compile("^Approve: ")).first
    expect(approve).to_be_visible()
    question = approve.get_attribute("aria-label").removeprefix("Approve: ")
    _shot(page, "07-faqs-draft")
    approve.click()
    expect(page.get_by_text("No drafts to review")).to_be_visible()
    page.get_by_label("Show").select_option("approved")
    expect(page.get_by_role("heading", name=question)).to_be_visible()
    _shot(page, "08-faqs-approved")

    # Feedback: the playground has no vote buttons, so the queue is empty and says where votes come from.
    _nav(page, "Feedback")
    expect(page.get_by_text("No feedback to review")).to_be_visible()
    _shot(page, "09-feedback")

    _nav(page, "Integrations")
    expect(page.get_by_role("region", name="Slack", exact=True)).to_contain_text("not configured")
    _shot(page, "10-integrations")
    # An API token for an MCP client: shown once with the settings to paste, then only its prefix.
    page.get_by_label("Who or what will use the token").fill("Claude Code")
    page.get_by_role("button", name="Create token").click()
    made = page.get_by_role("region", name="New API token")
    expect(made).to_contain_text("claude mcp add --transport http morningai")
    token = re.search(r"mai_[\w-]{43}", made.inner_text())[0]
    _shot(page, "10-integrations-mcp-token")
    _fits(page, 420)
    tools = requests.post(f"{hub}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10,
                          headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                                   "MCP-Protocol-Version": "2025-06-18"})
    assert [tool["name"] for tool in tools.json()["result"]["tools"]] == ["search_knowledge", "fetch_document", "ask"]
    made.get_by_role("button", name="Done").click()
    expect(page.get_by_role("row", name=re.compile("Claude Code"))).to_contain_text(token[:10])
    assert token not in page.content()
    _nav(page, "Settings")
    secrets = page.get_by_role("region", name="Secrets")
    expect(secrets).to_contain_text("OPENAI_API_KEY: not set")
    # Write-only: once saved, the value is gone from the field and from the page.
    page.get_by_label("New value for OPENAI_API_KEY").fill("sk-typed-in-the-browser")
    page.get_by_role("button", name="Save OPENAI_API_KEY").click()
    expect(secrets).to_contain_text("OPENAI_API_KEY: set · from the dashboard")
    expect(page.get_by_label("New value for OPENAI_API_KEY")).to_have_value("")
    assert "sk-typed" not in page.content()
    _shot(page, "11-settings")
    page.get_by_role("button", name="Clear the dashboard's OPENAI_API_KEY").click()
    expect(secrets).to_contain_text("OPENAI_API_KEY: not set")
    _nav(page, "Overview")
    expect(page.get_by_role("region", name="Tasks per hour by platform")).to_be_visible()
    expect(page.get_by_role("region", name="👍/👎 over time")).to_contain_text("No votes yet")
    _shot(page, "12-overview")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to MorningAI hub")).to_be_visible()


def test_slack_is_connected_step_by_step_from_the_integrations_page(built_dashboard, page, tmp_path):
    """The guided connection: the link that creates the Slack app carries the hub's manifest,
    the secrets Slack hands back are pasted on the same card, and its Test connection asks
    Slack with them at once, with no restart."""
    expect = playwright.expect
    public = "https://hub.example.org"
    with FakeSlack() as slack, _up(tmp_path, MORNINGAI_PUBLIC_URL=public, SLACK_API_URL=slack.api_url) as hub:
        slack.add_team("T0GUIDED", "xoxb-pasted-token", name="Guided Team")
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hub)
        page.goto(hub)
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        _nav(page, "Integrations")
        guide = page.get_by_role("region", name="Connect Slack step by step")
        expect(guide).to_be_visible()  # open: Slack is not configured yet

        create = guide.get_by_role("link", name="Create Slack app")
        link = urlsplit(create.get_attribute("href"))
        assert (link.netloc, link.path) == ("api.slack.com", "/apps")
        manifest = json.loads(parse_qs(link.query)["manifest_json"][0])
        assert manifest["settings"]["event_subscriptions"]["request_url"] == f"{public}/slack/events"
        assert manifest["oauth_config"]["redirect_urls"] == [f"{public}/slack/oauth_redirect"]
        guide.get_by_role("button", name="Copy Manifest (YAML)").click()
        expect(guide.get_by_role("status").first).to_have_text("Copied")
        assert f"request_url: {public}/slack/events" in page.evaluate("navigator.clipboard.readText()")
        _shot(page, "17-integrations-connect-slack")

        for variable, value in (("SLACK_SIGNING_SECRET", "8f14e45fceea167a5a36dedd4bea2543"),
                                ("SLACK_BOT_TOKEN", "xoxb-pasted-token")):
            guide.get_by_label(f"New value for {variable}").fill(value)
            guide.get_by_role("button", name=f"Save {variable}").click()
            expect(guide.get_by_label(f"New value for {variable}")).to_have_value("")
        expect(guide.get_by_text("set · from the dashboard")).to_have_count(2)
        # Saved where every process of the hub reads them, never shown back.
        secrets = admin_session(hub, EMAIL, PASSWORD).get(f"{hub}/api/settings").json()["secrets"]
        assert {s["variable"]: s["source"] for s in secrets if s["variable"].startswith("SLACK_")} == {
            "SLACK_SIGNING_SECRET": "dashboard", "SLACK_BOT_TOKEN": "dashboard", "SLACK_CLIENT_SECRET": None}
        assert "xoxb-pasted-token" not in page.content()
        # No restart: the Test connection of the guide's last step asks the fake Slack with the pasted token.
        guide.get_by_role("button", name="Test connection").click()
        expect(guide.get_by_role("status").last).to_contain_text("Guided Team")
        assert slack.calls("auth.test")
        _shot(page, "18-integrations-slack-secrets")
