"""Sources and loaders on real files the tests write: every format, git at HEAD, .gitignore rules,
a URL on a local HTTP server, and the files ingest must skip with a reason."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fpdf import FPDF

from memory.documents import Document, Entry, Unreadable
from memory.loaders import parse
from memory.sources import open_source

ARTICLE = """<!doctype html>
<html><head><title>Deploy guide | Acme docs</title><script>trackVisitor();</script></head>
<body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing navigation link</a></nav>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<main><article>
<h1>Deploy guide</h1>
<p>Deploying the hub to production takes three steps, which this guide walks through one by one.</p>
<h2>Production</h2>
<p>Point the hub at your managed PostgreSQL instance and restart every worker so they pick it up.</p>
<pre><code>morningai up --host 0.0.0.0
morningai worker</code></pre>
<h2>Rollback</h2>
<p>To roll back, redeploy the previous release tag; the migrations are idempotent by design.</p>
</article></main>
<footer>Copyright 2024 Acme Corporation. Privacy policy and terms of service.</footer>
</body></html>
"""


def read(path: Path) -> Document:
    [entry] = open_source(str(path)).entries()
    return parse(entry.location, entry.read())


def reason(entry: Entry) -> str:
    with pytest.raises(Unreadable) as raised:
        parse(entry.location, entry.read(), content_type=entry.content_type)
    return str(raised.value)


def by_location(target: Path, **options) -> dict[str, Entry]:
    return {entry.location: entry for entry in open_source(str(target), **options).entries()}


# Formats --------------------------------------------------------------------------------------

def test_markdown_keeps_text_and_takes_the_first_h1_as_title(tmp_path):
    (tmp_path / "guide.md").write_bytes(b"Intro line\r\n\r\n# Deploy guide\r\n\r\nSteps.\r\n")
    doc = read(tmp_path / "guide.md")
    assert (doc.format, doc.title, doc.location) == ("markdown", "Deploy guide", "guide.md")
    assert doc.text == "Intro line\n\n# Deploy guide\n\nSteps.\n"

    (tmp_path / "notes.markdown").write_text("```sh\n# not a heading\n```\n\n## Only h2\n")
    assert read(tmp_path / "notes.markdown").title == "notes"

    (tmp_path / "page.mdx").write_text('---\ntitle: "From front matter"\nslug: x\n---\n# Heading\n')
    page = read(tmp_path / "page.mdx")
    assert (page.title, page.text) == ("From front matter", "# Heading\n")


def test_rst_becomes_markdown_with_headings_by_depth(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-ingest-this")
    (tmp_path / "ops.rst").write_text(f"""\
==========
Operations
==========

Intro with *emphasis*.

Backups
=======

Run the dump nightly.

.. code-block:: python

   import backup
   backup.run()

- first item
- second item

Restore
-------

::

   psql < dump.sql

.. include:: {secret}
""")
    doc = read(tmp_path / "ops.rst")
    assert (doc.format, doc.title) == ("rst", "Operations")
    assert doc.text.startswith("# Operations\n\nIntro with emphasis.")
    assert "## Backups\n\nRun the dump nightly." in doc.text
    assert "```python\nimport backup\nbackup.run()\n```" in doc.text
    assert "- first item\n- second item" in doc.text
    assert "### Restore\n\n```\npsql < dump.sql\n```" in doc.text
    assert "do-not-ingest-this" not in doc.text  # include directives are disabled


def test_text_files(tmp_path):
    (tmp_path / "notes.txt").write_text("Plain notes.\n")
    (tmp_path / "LICENSE").write_text("MIT License\n")
    (tmp_path / "data.weird").write_text("unknown extension, but text\n")
    assert (read(tmp_path / "notes.txt").format, read(tmp_path / "notes.txt").title) == ("text", "notes")
    assert read(tmp_path / "LICENSE").format == "text"
    assert read(tmp_path / "data.weird").text == "unknown extension, but text\n"


def test_html_drops_boilerplate_and_keeps_headings(tmp_path):
    (tmp_path / "deploy.html").write_text(ARTICLE)
    doc = read(tmp_path / "deploy.html")
    assert (doc.format, doc.title) == ("html", "Deploy guide")
    assert "three steps" in doc.text and "idempotent by design" in doc.text
    assert "## Production" in doc.text and "## Rollback" in doc.text
    assert "```\nmorningai up --host 0.0.0.0\nmorningai worker\n```" in doc.text
    for boilerplate in ("Pricing navigation", "cookies", "Copyright", "trackVisitor"):
        assert boilerplate not in doc.text


def test_small_html_page_falls_back_to_visible_text():
    page = (b"<html><head><title>Tiny</title><style>p {color: red}</style></head><body>"
            b"<nav>Menu entries</nav><p>Just one line.</p><footer>Footer text</footer>"
            b"<script>alert(1)</script></body></html>")
    doc = parse("tiny.htm", page)
    assert (doc.title, doc.text) == ("Tiny", "Just one line.")
    for nothing in (b"<!-- only a comment -->", b"<html><script>x()</script></html>"):
        with pytest.raises(Unreadable, match="empty"):
            parse("nothing.html", nothing)


def make_pdf(path: Path, pages: list[str], *, title: str = "", password: str = "") -> None:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))


def test_pdf_pages_joined_by_blank_lines(tmp_path):
    make_pdf(tmp_path / "manual.pdf", ["First page text.", "Second page text."], title="Ops manual")
    doc = read(tmp_path / "manual.pdf")
    assert (doc.format, doc.title, doc.metadata) == ("pdf", "Ops manual", {"pages": 2})
    assert doc.text == "First page text.\n\nSecond page text."

    make_pdf(tmp_path / "untitled.pdf", ["Body."])
    assert read(tmp_path / "untitled.pdf").title == "untitled"


def test_encrypted_and_broken_pdfs_are_unreadable(tmp_path):
    make_pdf(tmp_path / "locked.pdf", ["Secret."], password="hunter2")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf\n")
    entries = by_location(tmp_path)
    assert reason(entries["locked.pdf"]).startswith("encrypted PDF")
    assert reason(entries["broken.pdf"]).startswith("broken PDF")


def test_python_source_is_code_titled_by_its_path(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "app.py").write_text("def main():\n    return 1\n")
    doc = by_location(tmp_path)["pkg/app.py"]
    document = parse(doc.location, doc.read())
    assert (document.format, document.language, document.title) == ("code", "python", "pkg/app.py")
    assert document.text == "def main():\n    return 1\n"


@pytest.mark.parametrize("name, language", [
    ("a.js", "javascript"), ("a.mjs", "javascript"), ("a.tsx", "typescript"), ("a.go", "go"),
    ("a.rs", "rust"), ("A.java", "java"), ("a.rb", "ruby"), ("a.h", "c"), ("a.cc", "cpp"),
    ("a.cs", "csharp"), ("a.php", "php"), ("a.sh", "shell"), ("a.sql", "sql"), ("a.kt", "kotlin"),
    ("a.swift", "swift"), ("a.scala", "scala"), ("pyproject.toml", "toml"), ("ci.yml", "yaml"),
    ("package.json", "json"), ("setup.cfg", "ini"), ("Dockerfile", "dockerfile"),
])
def test_code_languages(name, language):
    doc = parse(f"src/{name}", b"x = 1\n")
    assert (doc.format, doc.language, doc.title) == ("code", language, f"src/{name}")


# Sources --------------------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(root), *args], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_git_source_reads_tracked_files_at_head(tmp_path):
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "README.md").write_text("# Project\n\nfirst version\n")
    (repo / "docs" / "guide.md").write_text("# Guide\n")
    (repo / "app.py").write_text("print('hi')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "README.md").write_text("# Project\n\nsecond version\n")
    git(repo, "commit", "-q", "-am", "second")
    (repo / "README.md").write_text("# Project\n\nuncommitted edit\n")
    (repo / "untracked.md").write_text("# Not tracked\n")
    (repo / "app.py").unlink()  # deleted in the working tree, still at HEAD

    source = open_source(str(repo))
    assert (source.kind, source.location, source.name) == ("git", str(repo.resolve()), "repo")
    assert source.metadata == {"commit": git(repo, "rev-parse", "HEAD")}
    entries = {entry.location: entry for entry in source.entries()}
    assert sorted(entries) == ["README.md", "app.py", "docs/guide.md"]
    assert entries["README.md"].read() == b"# Project\n\nsecond version\n"
    assert entries["app.py"].read() == b"print('hi')\n"

    only_docs = open_source(str(repo), include=["*.md"], exclude=["docs/**"])
    assert [entry.location for entry in only_docs.entries()] == ["README.md"]
    too_small = open_source(str(repo), max_bytes=10)
    assert reason(next(too_small.entries())) == "larger than 10 bytes"


def test_git_repository_without_commits_is_refused(tmp_path):
    git(tmp_path, "init", "-q")
    with pytest.raises(ValueError, match="no commit"):
        open_source(str(tmp_path))


def test_folder_source_honours_gitignore_files_and_globs(tmp_path):
    files = {
        ".gitignore": "*.log\nbuild/\n",
        "README.md": "# Readme\n", "app.log": "noise", "build/out.md": "# built",
        "docs/.gitignore": "draft.md\n!keep.log\n", "docs/intro.md": "# Intro",
        "docs/draft.md": "# Draft", "docs/keep.log": "kept", "docs/api/ref.md": "# Ref",
        "src/main.py": "x = 1\n", "node_modules/lib/index.js": "x", ".venv/lib/site.py": "x",
        "src/__pycache__/main.cpython-311.pyc": "x", "src/.git/config": "x",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    source = open_source(str(tmp_path))
    assert (source.kind, source.location) == ("folder", str(tmp_path.resolve()))
    locations = [entry.location for entry in source.entries()]
    assert locations == [".gitignore", "README.md", "docs/.gitignore", "docs/api/ref.md",
                         "docs/intro.md", "docs/keep.log", "src/main.py"]
    assert by_location(tmp_path)["docs/intro.md"].read() == b"# Intro"

    assert list(by_location(tmp_path, include=["*.md"])) == [
        "README.md", "docs/api/ref.md", "docs/intro.md"]
    assert list(by_location(tmp_path, include=["docs/**"], exclude=["api/", ".gitignore"])) == [
        "docs/intro.md", "docs/keep.log"]


def test_single_file_source(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    source = open_source(str(tmp_path / "notes.txt"))
    assert (source.kind, source.location) == ("file", str((tmp_path / "notes.txt").resolve()))
    [entry] = source.entries()
    assert (entry.location, entry.read()) == ("notes.txt", b"hello")


def test_missing_path_and_unsupported_schemes(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.md"):
        open_source(str(tmp_path / "nowhere.md"))
    for target in ("ftp://example.com/a.md", "file:///etc/hosts"):
        with pytest.raises(ValueError, match="unsupported URL scheme.*http:// and https://"):
            open_source(target)


class Site(http.server.BaseHTTPRequestHandler):
    pages = {
        "/docs/": ("text/html; charset=utf-8", ARTICLE.encode()),
        "/readme.md": ("text/plain", b"# Readme from the web\n"),
        "/big": ("text/plain", b"x" * 5000),
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/stream":  # no Content-Length: the size is only known while reading
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 1000)
            self.close_connection = True
            return
        if self.path not in self.pages:
            self.send_error(404, "Not Found")
            return
        content_type, body = self.pages[self.path]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def url_entry(url: str, **options) -> Entry:
    source = open_source(url, **options)
    assert (source.kind, source.location) == ("url", url)
    [entry] = source.entries()
    assert entry.location == url
    return entry


def test_url_source_fetches_on_read_and_records_the_content_type(site):
    entry = url_entry(f"{site}/docs/")
    assert entry.content_type is None  # listing fetched nothing
    doc = parse(entry.location, entry.read(), content_type=entry.content_type)
    assert entry.content_type == "text/html; charset=utf-8"
    assert (doc.format, doc.title) == ("html", "Deploy guide")
    assert "idempotent by design" in doc.text and "Pricing navigation" not in doc.text

    markdown = url_entry(f"{site}/readme.md")
    doc = parse(markdown.location, markdown.read(), content_type=markdown.content_type)
    assert (doc.format, doc.title) == ("markdown", "Readme from the web")


def test_url_failures_are_unreadable(site):
    assert reason(url_entry(f"{site}/missing")) == "HTTP 404 Not Found"
    assert reason(url_entry(f"{site}/big", max_bytes=1000)) == "larger than 1000 bytes"
    assert reason(url_entry(f"{site}/stream", max_bytes=20_000)) == "larger than 20000 bytes"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = url_entry(f"http://127.0.0.1:{port}/", fetch_timeout=2)
    assert reason(refused).startswith("connection failed")


# Files ingest skips ---------------------------------------------------------------------------

def test_unreadable_files_say_why(tmp_path):
    (tmp_path / "blob.dat").write_bytes(b"header\x00\x01\x02binary")
    (tmp_path / "logo.png").write_bytes(b"not even a png")
    (tmp_path / "latin1.txt").write_bytes("café au lait".encode("latin-1"))
    (tmp_path / "huge.md").write_text("word " * 100)
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "blank.txt").write_text(" \n\t\n")
    (tmp_path / "gone.md").symlink_to(tmp_path / "missing-target.md")
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    entries = by_location(tmp_path, max_bytes=400)

    assert reason(entries["blob.dat"]) == "binary file"
    assert reason(entries["logo.png"]) == "binary file"
    assert reason(entries["latin1.txt"]) == "not UTF-8 text"
    assert reason(entries["huge.md"]) == "larger than 400 bytes"
    assert reason(entries["empty.md"]) == "empty"
    assert reason(entries["blank.txt"]) == "empty"
    assert reason(entries["gone.md"]) == "unreadable: No such file or directory"
    assert reason(entries["pipe.txt"]) == "not a regular file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission_is_unreadable(tmp_path):
    (tmp_path / "private.md").write_text("# Private")
    (tmp_path / "private.md").chmod(0)
    assert reason(by_location(tmp_path)["private.md"]) == "unreadable: Permission denied"


def test_declared_charset_is_honoured_but_never_guessed():
    latin = "<p>Caf\u00e9 cr\u00e8me.</p>".encode("latin-1")
    declared = parse("https://example.com/menu", latin, content_type="text/html; charset=ISO-8859-1")
    assert declared.text == "Caf\u00e9 cr\u00e8me."
    with pytest.raises(Unreadable, match="not UTF-8 text"):
        parse("https://example.com/menu", latin, content_type="text/html")


def test_a_source_is_named_as_people_call_it(tmp_path):
    (tmp_path / "handbook").mkdir()
    (tmp_path / "handbook" / "vpn.md").write_text("# VPN\n")
    assert open_source(str(tmp_path / "handbook")).name == "handbook"
    assert open_source(str(tmp_path / "handbook" / "vpn.md")).name == "vpn.md"
    assert open_source("https://docs.example.com/guide/").name == "docs.example.com/guide"
    assert open_source("https://docs.example.com").name == "docs.example.com"
