"""Confluence's storage format to Markdown. Storage format is XHTML plus Confluence's own `ac:`
and `ri:` elements (macros, links to pages and attachments, images, task lists, layouts): those
become the plain HTML they stand for, and markdownify turns the whole into Markdown whose
headings, fenced code and tables the chunker splits on."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

# Macros shown as a labelled quote: the reader should still see "Warning" before the text.
PANELS = {"info": "Info", "note": "Note", "warning": "Warning", "tip": "Tip", "panel": "", "success": "Success",
          "error": "Error"}
CODE = {"code", "noformat"}
# Macros that draw something from elsewhere (a table of contents, child page lists, a Jira
# query): their output is not the page's text, and what they list is synced in its own right.
GENERATED = {"toc", "toc-zone", "children", "pagetree", "recently-updated", "contentbylabel", "attachments",
             "livesearch", "include", "excerpt-include", "page-properties-report", "content-report-table",
             "blog-posts", "gallery", "profile", "viewfile", "view-file", "drawio", "gliffy", "widget", "iframe",
             "html", "anchor", "roadmap"}

# Parts an element reads when it is rewritten (a macro's parameters and body, a link's label, a
# task's status): left alone until then.
READ_BY_PARENT = {"ac:parameter", "ac:plain-text-body", "ac:rich-text-body", "ac:plain-text-link-body",
                  "ac:link-body", "ac:task", "ac:task-id", "ac:task-uuid", "ac:task-status", "ac:task-body",
                  "ac:adf-node", "ac:adf-fallback", "ac:adf-content", "ac:adf-attribute"}


class _Converter(MarkdownConverter):
    class Options:
        heading_style = "atx"
        bullets = "-"
        escape_underscores = False  # identifiers such as deploy_prod are common and read better bare
        code_language_callback = staticmethod(lambda el: el.get("data-language") or "")
        table_infer_header = True  # Confluence tables often have no <th> row


def to_markdown(storage: str, *, wiki: str = "", space: str = "", page_id: str = "") -> str:
    """The page body as Markdown. `wiki` (e.g. https://acme.atlassian.net/wiki), `space` and
    `page_id` make links to other pages and attachments absolute."""
    soup = BeautifulSoup(storage, "html.parser")
    _Plain(soup, wiki.rstrip("/"), space, page_id).rewrite()
    markdown = _Converter().convert_soup(soup)
    # A non-breaking space is how the editor keeps words apart; search wants a plain one.
    lines = [line.rstrip() for line in markdown.replace("\xa0", " ").strip().split("\n")]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"


class _Plain:
    """Rewrites a parsed storage-format body in place into plain HTML."""

    def __init__(self, soup: BeautifulSoup, wiki: str, space: str, page_id: str) -> None:
        self.soup, self.wiki, self.space, self.page_id = soup, wiki, space, page_id

    def rewrite(self) -> None:
        # Innermost first, so a macro's body is already plain when the macro around it moves it.
        for element in reversed(self.soup.find_all(True)):
            if element.decomposed or element.name in READ_BY_PARENT or element.name.startswith("ri:"):
                continue
            handle = getattr(self, "_" + element.name.replace(":", "_").replace("-", "_"), None)
            if handle is not None:
                handle(element)
            elif element.name.startswith("ac:"):
                element.unwrap()  # layouts, comment markers: their content is the text
        for element in self.soup.find_all(lambda tag: tag.name in READ_BY_PARENT or tag.name.startswith("ri:")):
            if not element.decomposed:
                element.decompose()  # what an element the page did not use left behind

    # --- macros ---

    def _ac_structured_macro(self, macro: Tag) -> None:
        name = (macro.get("ac:name") or "").lower()
        parameters = {p.get("ac:name", ""): p.get_text() for p in macro.find_all("ac:parameter", recursive=False)}
        body = macro.find("ac:rich-text-body", recursive=False)
        if name in CODE:
            plain = macro.find("ac:plain-text-body", recursive=False)
            pre = self.soup.new_tag("pre")
            if parameters.get("language"):
                pre["data-language"] = parameters["language"]
            pre.string = plain.get_text() if plain else ""
            macro.replace_with(pre)
        elif name in PANELS:
            quote_tag = self.soup.new_tag("blockquote")
            label = ": ".join(filter(None, (PANELS[name], parameters.get("title", ""))))
            if label:
                heading = self.soup.new_tag("p")
                strong = self.soup.new_tag("strong")
                strong.string = label
                heading.append(strong)
                quote_tag.append(heading)
            if body is not None:
                quote_tag.extend(list(body.contents))
            macro.replace_with(quote_tag)
        elif name == "status":
            macro.replace_with(f"[{parameters.get('title') or parameters.get('colour', '')}]")
        elif name == "jira":
            macro.replace_with(parameters.get("key", ""))
        elif name in GENERATED or body is None:
            macro.decompose()
        else:
            # expand, details, section/column, excerpt, any other macro wrapping text: the text.
            title = parameters.get("title")
            if title and name == "expand":
                label = self.soup.new_tag("p")
                strong = self.soup.new_tag("strong")
                strong.string = title
                label.append(strong)
                body.insert(0, label)
            if body.contents:
                macro.replace_with(*body.contents)
            else:
                macro.decompose()





    # --- links, images, tasks ---

    def _ac_link(self, link: Tag) -> None:
        label = link.find(["ac:link-body", "ac:plain-text-link-body"])
        text = label.get_text() if label else ""
        target = None
        page = link.find("ri:page")
        if page is not None:
            title = page.get("ri:content-title", "")
            space = page.get("ri:space-key") or self.space
            text = text or title
            target = f"{self.wiki}/display/{quote(space)}/{quote_plus(title)}" if self.wiki and title else None
        elif (url := link.find("ri:url")) is not None:
            target = url.get("ri:value")
            text = text or target or ""
        elif (attachment := link.find("ri:attachment")) is not None:
            text = text or attachment.get("ri:filename", "")
        elif link.get("ac:anchor"):
            text = text or link["ac:anchor"]
        if not text:
            link.decompose()
            return
        if target:
            anchor = self.soup.new_tag("a", href=target)
            anchor.string = text
            link.replace_with(anchor)
        else:
            link.replace_with(text)

    def _ac_image(self, image: Tag) -> None:
        alt = image.get("ac:alt") or image.get("ac:title") or ""
        src = ""
        if (url := image.find("ri:url")) is not None:
            src = url.get("ri:value", "")
        elif (attachment := image.find("ri:attachment")) is not None:
            filename = attachment.get("ri:filename", "")
            alt = alt or filename
            if self.wiki and self.page_id and filename:
                src = f"{self.wiki}/download/attachments/{self.page_id}/{quote(filename)}"
        if not src and not alt:
            image.decompose()
            return
        image.replace_with(self.soup.new_tag("img", src=src, alt=alt))

    def _ac_task_list(self, tasks: Tag) -> None:
        listing = self.soup.new_tag("ul")
        for task in tasks.find_all("ac:task", recursive=False):
            done = (task.find("ac:task-status").get_text() if task.find("ac:task-status") else "") == "complete"
            item = self.soup.new_tag("li")
            item.append("[x] " if done else "[ ] ")
            body = task.find("ac:task-body")
            if body is not None:
                item.extend(list(body.contents))
            listing.append(item)
        tasks.replace_with(listing)



    def _ac_emoticon(self, emoticon: Tag) -> None:
        fallback = emoticon.get("ac:emoji-fallback")
        if fallback:
            emoticon.replace_with(fallback)
        else:
            emoticon.decompose()

    def _ac_placeholder(self, placeholder: Tag) -> None:
        placeholder.decompose()  # editor hints ("Type your summary here"), never the page's text

    def _ac_adf_extension(self, extension: Tag) -> None:
        # The new editor's nodes (panels, decision lists) carry plain HTML for older readers.
        fallback = extension.find("ac:adf-fallback", recursive=False)
        if fallback is not None and fallback.contents:
            extension.replace_with(*fallback.contents)
        else:
            extension.decompose()





    def _time(self, time: Tag) -> None:
        time.replace_with(time.get("datetime") or time.get_text())
