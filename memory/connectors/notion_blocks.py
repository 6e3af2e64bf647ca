"""Notion's block JSON to Markdown: headings, paragraphs, nested lists and to-dos, toggles,
quotes and callouts, code with its language, tables, links to child pages and databases,
bookmarks, rich text with its annotations. A block's children sit in `block[type]["children"]`,
as Notion's own append requests nest them (the connector puts them there as it reads them).

Database rows are pages with properties; `properties()` writes them as a short list."""

from __future__ import annotations

from typing import Any

HEADINGS = {"heading_1": "#", "heading_2": "##", "heading_3": "###"}
LISTS = {"bulleted_list_item", "numbered_list_item", "to_do"}
MEDIA = {"image", "video", "file", "pdf", "audio"}
# Properties that change on every edit or hold ids: they would make every edit a new text and
# say nothing a reader asks about.
SKIPPED_PROPERTIES = {"title", "created_time", "last_edited_time", "created_by", "last_edited_by", "relation",
                      "button"}


def to_markdown(blocks: list[dict[str, Any]]) -> str:
    return _blocks(blocks).strip() + "\n" if blocks else ""


def rich_text(parts: list[dict[str, Any]] | None) -> str:
    """Rich text as inline Markdown: bold, italic, strikethrough, code, links; equations as
    inline code; mentions as the text Notion shows for them (a link when they have one)."""
    out = []
    for part in parts or []:
        text = part.get("plain_text", "")
        if not text:
            continue
        if part.get("type") == "equation":
            out.append(_code(part.get("equation", {}).get("expression", text)))
            continue
        annotations = part.get("annotations") or {}
        lead, core, trail = _chomp(text)
        if core:
            if annotations.get("code"):
                core = _code(core)
            if annotations.get("bold"):
                core = f"**{core}**"
            if annotations.get("italic"):
                core = f"*{core}*"
            if annotations.get("strikethrough"):
                core = f"~~{core}~~"
            link = part.get("href") or ((part.get("text") or {}).get("link") or {}).get("url")
            if link:
                core = f"[{core}]({link})"
        out.append(lead + core + trail)
    return "".join(out)


def plain(parts: list[dict[str, Any]] | None) -> str:
    return "".join(part.get("plain_text", "") for part in parts or [])


def properties(values: dict[str, Any]) -> str:
    """A database row's properties as `- **Name:** value` lines, the empty ones left out."""
    lines = []
    for name, value in values.items():
        if value.get("type") in SKIPPED_PROPERTIES:
            continue
        shown = _property(value)
        if shown:
            lines.append(f"- **{name}:** {shown}")
    return "\n".join(lines)


def page_url(page_id: str) -> str:
    return "https://www.notion.so/" + page_id.replace("-", "")


# --- blocks ---

def _blocks(blocks: list[dict[str, Any]]) -> str:
    """Blocks as Markdown, a blank line between them except inside a run of list items."""
    out: list[str] = []
    previous = None
    number = 0
    for block in blocks:
        kind = block.get("type", "")
        number = number + 1 if kind == "numbered_list_item" and previous == "numbered_list_item" else 1
        text = _block(block, number)
        if not text:
            continue
        if out:
            out.append("\n" if _same_list(kind, previous) else "\n\n")
        out.append(text)
        previous = kind
    return "".join(out)


def _block(block: dict[str, Any], number: int) -> str:
    kind = block.get("type", "")
    body = block.get(kind) or {}
    children = _blocks(body.get("children") or [])
    text = rich_text(body.get("rich_text"))
    if kind == "paragraph":
        return _joined(text, children)
    if kind in HEADINGS:
        return _joined(f"{HEADINGS[kind]} {text}" if text else "", children)  # a toggle heading's content follows
    if kind in LISTS:
        marker = {"bulleted_list_item": "- ", "numbered_list_item": f"{number}. ",
                  "to_do": "- [x] " if body.get("checked") else "- [ ] "}[kind]
        return marker + _indented(text, len(marker)).lstrip() + (
            "\n" + _indented(children, len(marker)) if children else "")
    if kind == "toggle":
        return _joined(text, children)
    if kind in ("quote", "callout"):
        icon = (body.get("icon") or {}).get("emoji", "") if kind == "callout" else ""
        inner = _joined(f"{icon} {text}".strip(), children)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n")) if inner else ""
    if kind == "code":
        language = body.get("language", "")
        language = "" if language == "plain text" else language.replace(" ", "")
        caption = rich_text(body.get("caption"))
        fence = "````" if "```" in plain(body.get("rich_text")) else "```"
        return _joined(f"{fence}{language}\n{plain(body.get('rich_text'))}\n{fence}", caption)
    if kind == "equation":
        return _code(body.get("expression", ""))
    if kind == "divider":
        return "---"
    if kind == "table":
        return _table(body)
    if kind in ("child_page", "child_database"):
        return f"[{body.get('title') or 'Untitled'}]({page_url(block['id'])})"
    if kind == "link_to_page":
        target = body.get(body.get("type", "")) or ""
        return f"[Linked page]({page_url(target)})" if target else ""
    if kind in ("bookmark", "embed", "link_preview"):
        url = body.get("url", "")
        label = rich_text(body.get("caption")) or url
        return f"[{label}]({url})" if url else ""
    if kind in MEDIA:
        return _media(kind, body)
    # Synced blocks, columns, meeting notes and the rest carry their content as children;
    # a table of contents or breadcrumb has none, and reads as nothing.
    return _joined(text, children)


def _table(body: dict[str, Any]) -> str:
    rows = [[_cell(cell) for cell in (row.get("table_row") or {}).get("cells", [])]
            for row in body.get("children") or [] if row.get("type") == "table_row"]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    # Markdown tables need a header row: without a column header, it is left empty.
    header, rest = (rows[0], rows[1:]) if body.get("has_column_header") else ([""] * width, rows)
    lines = [header, ["---"] * width, *rest]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _cell(parts: list[dict[str, Any]]) -> str:
    return rich_text(parts).replace("|", "\\|").replace("\n", " ")


def _media(kind: str, body: dict[str, Any]) -> str:
    caption = rich_text(body.get("caption")) or body.get("name", "")
    # Files Notion hosts have links that expire within the hour: only an external link is kept,
    # or a page's text would change every time it is read.
    url = (body.get("external") or {}).get("url", "") if body.get("type") == "external" else ""
    if kind == "image":
        return f"![{caption}]({url})" if url or caption else ""
    if url:
        return f"[{caption or url}]({url})"
    return caption


# --- properties ---

def _property(value: dict[str, Any]) -> str:
    kind = value.get("type", "")
    data = value.get(kind)
    if data is None or data == [] or data == "":
        return ""
    if kind in ("rich_text", "title"):
        return rich_text(data)
    if kind in ("select", "status"):
        return data.get("name", "")
    if kind == "multi_select":
        return ", ".join(option.get("name", "") for option in data)
    if kind == "people":
        return ", ".join(person.get("name") or "someone" for person in data)
    if kind == "date":
        return " to ".join(filter(None, (data.get("start"), data.get("end"))))
    if kind == "checkbox":
        return "yes" if data else "no"
    if kind == "files":
        return ", ".join(file.get("name", "") for file in data)
    if kind == "unique_id":
        return f"{data.get('prefix') or ''}{'-' if data.get('prefix') else ''}{data.get('number', '')}"
    if kind in ("formula", "rollup"):
        inner = data.get(data.get("type", ""))
        if data.get("type") == "array":
            return ", ".join(filter(None, (_property(item) for item in inner or [])))
        return _property({"type": data.get("type", ""), data.get("type", ""): inner})
    if kind in ("number", "url", "email", "phone_number", "string"):
        return str(data)
    if kind == "boolean":
        return "yes" if data else "no"
    if kind == "verification":
        return data.get("state", "")
    return ""


# --- text helpers ---

def _same_list(kind: str, previous: str | None) -> bool:
    """Whether two blocks are items of one Markdown list (bullets and to-dos share a marker)."""
    bullets = ("bulleted_list_item", "to_do")
    return kind == previous == "numbered_list_item" or (kind in bullets and previous in bullets)


def _joined(first: str, rest: str) -> str:
    return "\n\n".join(part for part in (first, rest) if part)


def _indented(text: str, width: int) -> str:
    return "\n".join(" " * width + line if line else "" for line in text.split("\n"))


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _chomp(text: str) -> tuple[str, str, str]:
    """Leading and trailing spaces stay outside `**…**`, where Markdown needs them."""
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core):]
