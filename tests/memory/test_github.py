"""The GitHub connector against the fake GitHub over real HTTP: what a listing holds and costs,
issues and discussions as documents, a push's paths, the App's tokens, and GitHub's refusals and
rate limits as the service words them."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes.github_git import blob_sha
from fakes.github_server import FakeGitHub

from memory import connectors
from memory.connectors import ConnectorError, SettingsError
from memory.documents import Unreadable
from memory.loaders import parse

REPO = "acme/handbook"
TREE = "GET /repos/{owner}/{repo}/git/trees/{sha}"
BLOB = "GET /repos/{owner}/{repo}/git/blobs/{sha}"
FILES = {
    "README.md": "# Handbook\n\nHow the Acme team works.\n",
    "docs/deploy.md": "# Deploy\n\nDeploys go out from main with `make release`.\n",
    "docs/api.rst": "API\n===\n\nThe API speaks JSON.\n",
    "docs/logo.png": b"\x89PNG\r\n\x1a\n\0\0",
    "src/app.py": "def main():\n    return 42\n",
    "node_modules/left-pad/README.md": "# left-pad\n",
}


@pytest.fixture
def github():
    with FakeGitHub(token="ghp_test") as server:
        server.add_repo(REPO, FILES)
        yield server


def connect(github, token="ghp_test", **settings):
    return connectors.build("github", {"repository": REPO, "api_url": github.url, **settings}, {"token": token})


def by_location(listing):
    return {item.location: item for item in listing.items}


def blob_url(github, path):
    return f"{github.url}/{REPO}/blob/main/{path}"


def test_a_first_listing_takes_the_docs_with_their_blob_shas_and_skips_code_binaries_and_vendored_files(github):
    listing = connect(github, issues=False, discussions=False).listing({})
    items = by_location(listing)
    assert sorted(items) == [blob_url(github, p) for p in ("README.md", "docs/api.rst", "docs/deploy.md")]
    assert items[blob_url(github, "docs/deploy.md")].version == blob_sha(FILES["docs/deploy.md"].encode())
    assert listing.complete and listing.cursor["commit"] == github.head(REPO)
    assert github.count(TREE) == 1 and github.count(BLOB) == 0  # listing reads no file

    fetched = items[blob_url(github, "docs/deploy.md")].fetch(None)
    assert fetched.data == FILES["docs/deploy.md"].encode()
    document = parse(blob_url(github, "docs/deploy.md"), fetched.data, content_type=fetched.content_type)
    assert document.format == "markdown" and "make release" in document.text


def test_code_is_opt_in_and_include_globs_pick_files_whatever_their_type(github):
    with_code = by_location(connect(github, code=True, issues=False, discussions=False).listing({}))
    assert blob_url(github, "src/app.py") in with_code
    assert blob_url(github, "node_modules/left-pad/README.md") not in with_code
    picked = by_location(connect(github, include=["src/**"], issues=False, discussions=False).listing({}))
    assert sorted(picked) == [blob_url(github, "src/app.py")]
    excluded = by_location(connect(github, exclude="docs/", issues=False, discussions=False).listing({}))
    assert sorted(excluded) == [blob_url(github, "README.md")]


def test_an_unchanged_head_lists_no_files_and_only_the_issues_updated_since(github):
    github.add_issue(REPO, "Old question", "Still here.")
    connector = connect(github, discussions=False)
    first = connector.listing({})
    assert len(first.items) == 4 and first.complete
    again = connector.listing(first.cursor)
    assert not again.complete and github.count(TREE) == 1
    assert [i.title for i in again.items] == ["Old question (#1)"]  # updated at the cursor's instant

    github.add_issue(REPO, "New question", "Fresh.")
    github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nEvery Tuesday.\n", "README.md": None})
    moved = connector.listing(again.cursor)
    assert moved.complete and github.count(TREE) == 2
    items = by_location(moved)
    assert blob_url(github, "README.md") not in items
    assert items[blob_url(github, "docs/deploy.md")].version == blob_sha(b"# Deploy\n\nEvery Tuesday.\n")
    assert {i.title for i in moved.items if i.title} == {"Old question (#1)", "New question (#2)"}


def test_issues_are_documents_with_their_comments_pull_requests_left_out_and_resolved_ones_first(github):
    github.add_issue(REPO, "Crash on start", "It crashes.", state="closed", comments=["Fixed in 1.2.", "Thanks!"])
    github.add_issue(REPO, "Dark mode", "Please.")
    github.add_issue(REPO, "Won't fix", "Nope.", state="closed", state_reason="not_planned")
    github.add_issue(REPO, "Add a CLI", pull_request=True)
    listing = connect(github, discussions=False).listing({})
    issues = sorted((i for i in listing.items if "/issues/" in i.location), key=lambda i: i.priority)
    assert [i.title for i in issues] == ["Crash on start (#1)", "Dark mode (#2)", "Won't fix (#3)"]
    assert all("/pull/" not in i.location for i in listing.items)

    fetched = issues[0].fetch(None)
    text = fetched.data.decode()
    assert fetched.content_type == "text/markdown" and fetched.title == "Crash on start (#1)"
    assert text.startswith("# Crash on start") and "closed, completed" in text
    assert text.index("Fixed in 1.2.") < text.index("Thanks!")


def test_issues_are_read_page_by_page_following_the_link_header(github):
    for n in range(230):
        github.add_issue(REPO, f"Question {n}", "?")
    listing = connect(github, discussions=False).listing({})
    assert sum("/issues/" in i.location for i in listing.items) == 230
    assert github.count("GET /repos/{owner}/{repo}/issues") == 3


def test_discussions_come_answered_first_with_the_accepted_answer_marked(github):
    github.add_discussion(REPO, "Where are the logs?", "I can't find them.")
    github.add_discussion(REPO, "How do I deploy?", "Which command?",
                          comments=["Try make deploy?", "Run `make release` from main.", "Thanks"], answer=1)
    items = [i for i in connect(github, issues=False).listing({}).items if "/discussions/" in i.location]
    first = min(items, key=lambda i: i.priority)
    assert first.title == "How do I deploy? (#2)"
    text = first.fetch(None).data.decode()
    assert "answered" in text
    assert text.index("## Accepted answer by @hubot\n\nRun `make release` from main.") < text.index("Try make deploy?")


def test_a_push_lists_just_the_paths_it_touched_and_what_it_removed(github):
    connector = connect(github)
    cursor = connector.listing({}).cursor
    before = github.head(REPO)
    after = github.commit(REPO, {"docs/deploy.md": "# Deploy\n\nFridays.\n", "docs/new.md": "# New\n",
                                 "src/app.py": "pass\n", "README.md": None})
    changed = {"paths": ["docs/deploy.md", "docs/new.md", "src/app.py"], "removed": ["README.md"],
               "before": before, "after": after}
    listing = connector.listing(cursor, changed=changed)
    assert not listing.complete
    assert sorted(by_location(listing)) == [blob_url(github, "docs/deploy.md"), blob_url(github, "docs/new.md")]
    assert listing.removed == [blob_url(github, "README.md")]
    assert listing.cursor["commit"] == after  # the cursor stood at the push's parent

    missed = connector.listing({**cursor, "commit": "0" * 40}, changed=changed)
    assert missed.cursor["commit"] == "0" * 40  # a push was missed: the next full listing catches up


def test_a_file_over_the_size_limit_is_skipped_with_the_reason(github):
    github.commit(REPO, {"docs/huge.md": "# Huge\n" + "x" * 5000})
    items = by_location(connect(github, max_file_bytes=1000, issues=False, discussions=False).listing({}))
    with pytest.raises(Unreadable, match="larger than 1000 bytes"):
        items[blob_url(github, "docs/huge.md")].fetch(None)
    assert github.count(BLOB) == 0


def test_a_wrong_token_fails_with_githubs_bad_credentials_and_a_missing_repository_with_not_found(github):
    with pytest.raises(ConnectorError, match="401 Bad credentials"):
        connect(github, token="ghp_wrong").listing({})
    with pytest.raises(ConnectorError, match="404 Not Found"):
        connectors.build("github", {"repository": "acme/nope", "api_url": github.url},
                         {"token": "ghp_test"}).listing({})
    github.fail_next(TREE, 403, "Resource not accessible by personal access token")
    with pytest.raises(ConnectorError, match="403 Resource not accessible by personal access token"):
        connect(github).listing({})


def test_a_secondary_rate_limit_is_waited_out(github):
    github.secondary_rate_limit(TREE, retry_after=1)
    connector = connect(github, issues=False, discussions=False)
    listing = connector.listing({})
    assert len(listing.items) == 3 and github.count(TREE) == 2
    assert connector.client.waited == 1.0


def test_an_exhausted_primary_rate_limit_is_waited_out_until_its_reset(github):
    github.primary_rate_limit("GET /repos/{owner}/{repo}/issues", reset_in=1)
    connector = connect(github, discussions=False)
    assert len(connector.listing({}).items) == 3
    assert github.count("GET /repos/{owner}/{repo}/issues") == 2 and 0 < connector.client.waited <= 2.5


def test_a_github_app_signs_a_jwt_for_an_installation_token_and_reuses_it(github):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    github.add_app("4242", key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo), "77")
    github.add_discussion(REPO, "Hello", "World")
    app = {"app_id": "4242", "private_key": pem, "installation_id": "77"}
    connector = connectors.build("github", {"repository": REPO, "api_url": github.url}, app)
    listing = connector.listing({})
    assert len(listing.items) == 4
    assert github.count("POST /app/installations/{installation}/access_tokens") == 1
    assert set(github.issued.values()) == {"77"}

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(ConnectorError, match="401 A JSON web token could not be decoded"):
        connectors.build("github", {"repository": REPO, "api_url": github.url},
                         {**app, "private_key": other}).listing({})


@pytest.mark.parametrize(("settings", "credentials", "message"), [
    ({"repository": "handbook"}, {"token": "t"}, 'repository: give the repository as "owner/name"'),
    ({"repository": REPO, "docs": "yes"}, {"token": "t"}, "docs: give true or false"),
    ({"repository": REPO, "include": 3}, {"token": "t"}, "include: give a list of gitignore-style globs"),
    ({"repository": REPO, "colour": "red"}, {"token": "t"}, "colour: not a GitHub setting"),
    ({"repository": REPO}, {}, 'credentials: give {"token": ...} or a GitHub App'),
    ({"repository": REPO, "api_url": "ftp://x"}, {"token": "t"}, "api_url: 'ftp://x' is not an http"),
])
def test_settings_and_credentials_are_checked_with_the_field_named(settings, credentials, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        connectors.build("github", settings, credentials)


def test_the_links_point_at_github_or_the_enterprise_host():
    public = connectors.build("github", {"repository": REPO}, {"token": "t"})
    assert public.location == "https://github.com/acme/handbook" and public.name == REPO
    enterprise = connectors.build("github", {"repository": REPO, "api_url": "https://git.acme.io/api/v3"},
                                  {"token": "t"})
    assert enterprise.location == "https://git.acme.io/acme/handbook"
