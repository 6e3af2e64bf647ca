"""Sitemaps (sitemaps.org): a `<urlset>` of pages with their `<lastmod>`, or a `<sitemapindex>`
of further sitemaps, either one plain or gzipped. Any sitemap that cannot be read fails the
listing: half a listing would remove the other half's pages."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import lxml.etree

from memory.connectors import ConnectorError, Item, Listing
from memory.connectors.web_site import (
    MAX_BYTES,
    ROBOTS,
    Scope,
    Site,
    beyond,
    canonical,
    origin,
    skipped,
)

# The protocol caps a file at 50,000 URLs and an index at 50,000 sitemaps; a site needing more
# than this many files is not one source.
MAX_SITEMAPS = 200
# No DTDs, entities or network: a sitemap is data, never a way to make the parser read files.
_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class Entry:
    url: str
    lastmod: str | None


def listing(site: Site, url: str, scope: Scope, max_pages: int) -> Listing:
    """The pages the sitemap lists in `scope` (others are not the source's), a lastmod their
    version: a page whose lastmod stands is not even requested."""
    pages: dict[str, Item] = {}
    removed: list[str] = []
    for entry in read(site, url):
        page = canonical(entry.url)
        if page is None or page in pages or not scope.holds(page):
            continue
        if not site.allowed(page):
            pages[page] = skipped(page, ROBOTS)
            removed.append(page)
        elif len(pages) - len(removed) == max_pages:
            pages[page] = skipped(page, beyond(max_pages))
            removed.append(page)
            break
        else:
            version = f"lastmod:{entry.lastmod}" if entry.lastmod else None
            pages[page] = Item(page, version, site.fetcher(page, validated=entry.lastmod is None))
    # `removed` also holds listed items: the sync records why they were skipped, then removes them.
    return Listing(list(pages.values()), {}, removed=removed, total=len(pages))


def read(site: Site, url: str) -> list[Entry]:
    """Every page the sitemap at `url` lists, through any sitemap indexes, in order."""
    entries: list[Entry] = []
    pending, seen = [url], {url}
    while pending:
        sitemap = pending.pop(0)
        children, found = parse(site.document(sitemap).data, sitemap)
        entries += found
        for child in children:
            if origin(child) != site.origin:  # the site's credentials go to the site alone
                raise ConnectorError(f"{sitemap} names a sitemap on another site, {child}; only "
                                     f"{site.origin} is read")
            if child not in seen:
                seen.add(child)
                pending.append(child)
        if len(seen) > MAX_SITEMAPS:
            raise ConnectorError(f"{url}: more than {MAX_SITEMAPS} sitemaps; point the source at one of them")
    return entries


def parse(data: bytes, url: str) -> tuple[list[str], list[Entry]]:
    """(the sitemaps an index names, the pages a urlset lists)."""
    if data[:2] == b"\x1f\x8b":  # a .xml.gz served as a file, not decoded on the way
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflate.decompress(data, MAX_BYTES + 1)
        except zlib.error as error:
            raise ConnectorError(f"{url}: not a readable gzip file ({error})") from error
        if len(data) > MAX_BYTES or inflate.unconsumed_tail:
            raise ConnectorError(f"{url}: larger than {MAX_BYTES} bytes unzipped")
    try:
        root = lxml.etree.fromstring(data, _PARSER)
    except lxml.etree.XMLSyntaxError as error:
        raise ConnectorError(f"{url}: not a sitemap, the XML does not parse ({error})") from error
    kind = lxml.etree.QName(root).localname
    if kind == "sitemapindex":
        return [loc for loc, _ in _locations(root, "sitemap")], []
    if kind == "urlset":
        return [], [Entry(loc, lastmod) for loc, lastmod in _locations(root, "url")]
    raise ConnectorError(f"{url}: not a sitemap (its root is <{kind}>, not <urlset> or <sitemapindex>)")


def _locations(root: lxml.etree._Element, tag: str) -> list[tuple[str, str | None]]:
    # By local name: sitemaps in the wild come with and without the sitemaps.org namespace.
    found = []
    for element in root.iterchildren():
        if not isinstance(element.tag, str) or lxml.etree.QName(element).localname != tag:
            continue
        fields = {lxml.etree.QName(child).localname: (child.text or "").strip()
                  for child in element.iterchildren() if isinstance(child.tag, str)}
        if fields.get("loc"):
            found.append((fields["loc"], fields.get("lastmod") or None))
    return found
