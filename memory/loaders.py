"""Bytes to Document: the format is chosen by extension (or, for URLs, the Content-Type), and
markup becomes Markdown so one chunker serves markdown, rst and html alike."""

from __future__ import annotations

import io
import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import pypdf
import trafilatura
from docutils import nodes
from docutils.core import publish_doctree
from markdown_it import MarkdownIt

from memory.documents import Document, Unreadable

MARKDOWN = {".md", ".markdown", ".mdx"}
TEXT = {".txt", ".text", ""}
HTML = {".html", ".htm", ".xhtml"}
LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript",
    ".go": "go", ".rs": "rust", ".java": "java", ".rb": "ruby", ".c": "c", ".h": "c",
    ".cpp": "cpp", ".hpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".cs": "csharp", ".php": "php",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".sql": "sql", ".kt": "kotlin",
    ".kts": "kotlin", ".swift": "swift", ".scala": "scala", ".css": "css",
    # Configuration is code too: its keys and sections are what the chunker splits on.
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ini": "ini", ".cfg": "ini",
}
NAMED_CODE = {"Dockerfile": "dockerfile", "Makefile": "make", "Containerfile": "dockerfile"}
BINARY = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jar", ".whl",
    ".exe", ".dll", ".so", ".dylib", ".o", ".a", ".bin", ".class", ".pyc", ".wasm",
    ".mp3", ".mp4", ".wav", ".ogg", ".flac", ".mov", ".avi", ".mkv", ".webm",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".sqlite", ".db",
    ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt",
}
_BINARY_MEDIA = ("image/", "audio/", "video/", "font/")
_MEDIA_FORMATS = {
    "text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf",
    "text/markdown": "markdown", "text/x-markdown": "markdown", "text/x-rst": "rst",
}
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(['\"]?)(.+?)\1[ \t]*$", re.MULTILINE)
_markdown = MarkdownIt("commonmark")


def parse(location: str, data: bytes, *, content_type: str | None = None) -> Document:
    """Raises Unreadable (binary, not UTF-8, empty, broken PDF) for what ingest should skip."""
    path = PurePosixPath(urlsplit(location).path if "://" in location else location)
    suffix = path.suffix.lower()
    stem = path.stem or urlsplit(location).hostname or location
    media_type, _, parameters = (content_type or "").partition(";")
    media_type = media_type.strip().lower()

    if not data.strip():
        raise Unreadable("empty")
    kind = _MEDIA_FORMATS.get(media_type) or _format_by_name(path.name, suffix)
    if kind == "pdf":
        return _pdf(location, stem, data)
    if suffix in BINARY or media_type.startswith(_BINARY_MEDIA) or b"\0" in data[:8192]:
        raise Unreadable("binary file")
    text = _decode(data, _charset(parameters))
    if not text.strip():
        raise Unreadable("empty")

    if kind == "markdown":
        return _markdown_document(location, stem, text)
    if kind == "rst":
        return _rst(location, stem, text)
    if kind == "html":
        return _html(location, stem, text)
    if kind == "text":
        return Document(location, stem, text, "text")
    language = NAMED_CODE.get(path.name) or LANGUAGES[suffix]
    return Document(location, location, text, "code", language=language)


def _format_by_name(name: str, suffix: str) -> str:
    if suffix in MARKDOWN:
        return "markdown"
    if suffix == ".rst":
        return "rst"
    if suffix in HTML:
        return "html"
    if suffix == ".pdf":
        return "pdf"
    if suffix in LANGUAGES or name in NAMED_CODE:
        return "code"
    return "text"  # .txt, no extension, or anything unknown that turns out to decode as text


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _decode(data: bytes, declared: str | None) -> str:
    # Only UTF-8 (with or without a BOM), or the charset a server declared: guessing latin-1
    # would index mojibake without anyone noticing.
    for encoding in filter(None, ("utf-8-sig", declared)):
        try:
            return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except (LookupError, UnicodeDecodeError):
            continue
    raise Unreadable("not UTF-8 text")


def _markdown_document(location: str, stem: str, text: str) -> Document:
    # Static-site front matter (Jekyll, Hugo, Docusaurus) is metadata, not prose; its title is
    # the page's title.
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end():]
        named = _FRONT_MATTER_TITLE.search(front.group(1))
        title = named.group(2).strip() if named else ""
        if not text.strip():
            raise Unreadable("empty")
    return Document(location, title or _first_h1(text) or stem, text, "markdown")


def _first_h1(text: str) -> str:
    tokens = _markdown.parse(text)
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type == "heading_open" and opening.tag == "h1":
            return inline.content.strip()
    return ""


def _rst(location: str, stem: str, text: str) -> Document:
    doctree = publish_doctree(text, settings_overrides={
        # Documents come from users: no reading other files or passing raw HTML through.
        "file_insertion_enabled": False,
        "raw_enabled": False,
        "report_level": 5,
        "halt_level": 5,
        "warning_stream": io.StringIO(),
    })
    title = doctree.get("title", "")
    markdown = "\n\n".join(_rst_blocks(doctree, 2 if title else 1))
    return Document(location, title or stem, markdown, "rst")


def _rst_blocks(node: nodes.Element, depth: int) -> list[str]:
    blocks: list[str] = []
    for child in node.children:
        if isinstance(child, (nodes.Invisible, nodes.system_message, nodes.image, nodes.raw)):
            continue  # comments, targets, substitution definitions, errors
        if isinstance(child, nodes.section):
            blocks.append(f"{'#' * min(depth, 6)} {child[0].astext()}")
            blocks += _rst_blocks(child, depth + 1)
        elif isinstance(child, nodes.title):
            if node is child.document:
                blocks.append(f"# {child.astext()}")
            elif not isinstance(node, nodes.section):  # a topic's or an admonition's title
                blocks.append(f"**{child.astext()}**")
        elif isinstance(child, nodes.literal_block):
            language = " ".join(c for c in child.get("classes", []) if c != "code")
            blocks.append(f"```{language}\n{child.astext()}\n```")
        elif isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
            blocks.append("\n".join(_rst_items(child, depth)))
        elif isinstance(child, nodes.TextElement):
            blocks.append(child.astext())
        elif isinstance(child, nodes.Element):
            blocks += _rst_blocks(child, depth)  # block quotes, admonitions, tables, fields
    return blocks


def _rst_items(listing: nodes.Element, depth: int) -> list[str]:
    lines = []
    for number, item in enumerate(listing.children, start=1):
        marker = f"{number}." if isinstance(listing, nodes.enumerated_list) else "-"
        body = "\n\n".join(_rst_blocks(item, depth)).split("\n")
        lines.append(f"{marker} {body[0]}")
        lines += [f"  {line}" if line else "" for line in body[1:]]
    return lines


def _html(location: str, stem: str, text: str) -> Document:
    try:
        parser = lxml.html.HTMLParser(encoding="utf-8")
        tree = lxml.html.document_fromstring(text.encode(), parser=parser)
    except lxml.etree.ParserError:  # nothing but comments or whitespace
        raise Unreadable("empty") from None
    # Navigation and footers are boilerplate by definition; removing them first also keeps them
    # out of small pages, where trafilatura falls back to taking everything.
    for element in tree.xpath("//nav|//footer|//noscript|//*[@role='navigation']"):
        element.drop_tree()
    metadata = trafilatura.extract_metadata(tree)
    title = (metadata.title if metadata else None) or (tree.findtext(".//title") or "").strip()
    markdown = trafilatura.extract(tree, output_format="markdown", include_formatting=True,
                                   include_comments=False, include_tables=True)
    if not markdown or not markdown.strip():
        markdown = trafilatura.html2txt(tree)  # visible text, minus scripts, styles and asides
    if not markdown.strip():
        raise Unreadable("empty")
    return Document(location, title or stem, markdown.strip(), "html")


def _pdf(location: str, stem: str, data: bytes) -> Document:
    # pypdf raises a wide variety of exception types on malformed files; any of them means the
    # same thing to ingest: this PDF cannot be read.
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # Many PDFs are encrypted with an empty user password only to restrict printing.
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted PDF (needs a password)")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = str(reader.metadata.title or "").strip() if reader.metadata else ""
    except Unreadable:
        raise
    except (pypdf.errors.FileNotDecryptedError, pypdf.errors.DependencyError) as error:
        raise Unreadable(f"encrypted PDF ({error})") from error
    except Exception as error:  # noqa: BLE001
        raise Unreadable(f"broken PDF: {error}") from error
    text = "\n\n".join(page for page in pages if page).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Unreadable("no extractable text (a scanned PDF?)")
    return Document(location, title or stem, text, "pdf", metadata={"pages": len(pages)})
