"""Connectors: knowledge that lives in a service (GitHub, Confluence, Notion, a web site) and
changes there. Each connector lists a source's items cheaply, with a version marker per item
(a blob sha, a page's version number, its last edit time, a sitemap's lastmod), and fetches an
item only when the sync (memory/sync.py) finds its version changed since the last run.

A connector is built from a source's settings (`options`, not secret) and credentials (opened
by the caller from their sealed form); it talks to its service through `http.Client`, whose
base URL comes from the settings, so tests point it at a local fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class ConnectorError(Exception):
    """The service refused or failed the listing: the source is marked failing with this
    message (the service's own reason where it gave one) and its knowledge is kept."""


class SettingsError(ValueError):
    """A source's settings or credentials are missing or malformed; the message names the field
    and says what it should be."""


@dataclass(frozen=True)
class Fetched:
    """An item's content: the bytes `memory.loaders.parse` reads, by `content_type` or else by
    the location's file name (a connector that converts a page gives Markdown, "text/markdown")."""

    data: bytes
    content_type: str | None = None  # as memory.loaders.parse takes it, e.g. "text/markdown"
    title: str | None = None  # overrides the title the loader finds
    version: str | None = None  # when only fetching tells the version (an ETag)
    metadata: dict[str, Any] = field(default_factory=dict)  # kept with the document


@dataclass(frozen=True)
class Item:
    """One document of a source, listed without its content.

    `location` is the link a citation opens (a page's URL, a file's blob URL) and the item's key
    within the source. `version` changes whenever the content may have; None when the listing
    cannot tell (the sync then fetches, passing the stored version for a conditional request).
    `fetch(known)` returns the content, or None when `known` (the stored version) is still
    current (an HTTP 304); it raises memory.documents.Unreadable to skip the item with a reason."""

    location: str
    version: str | None
    fetch: Callable[[str | None], Fetched | None] = field(repr=False, compare=False)
    title: str | None = None
    priority: int = 0  # lower first: e.g. answered discussions before open ones


@dataclass
class Listing:
    """What a connector found. `complete`: the items are everything the source holds now, so a
    stored document not among them was deleted there. An incremental listing (a webhook's
    changed paths) is not complete: only `removed` locations are deleted. `cursor` is saved after
    a successful sync and handed back next time (e.g. the commit synced)."""

    items: Iterator[Item] | list[Item]
    cursor: dict[str, Any]
    complete: bool = True
    removed: list[str] = field(default_factory=list)
    total: int | None = None  # for the progress bar, when known before iterating


class Connector(Protocol):
    kind: str

    @property
    def location(self) -> str:
        """The source's own key and link, e.g. https://github.com/acme/handbook."""

    @property
    def name(self) -> str:
        """How people call the source, e.g. acme/handbook."""

    def listing(self, cursor: dict[str, Any], *, changed: dict[str, Any] | None = None) -> Listing:
        """The items to sync. `cursor` is what the last successful sync saved ({} the first time).
        `changed` narrows a sync to what a webhook reported (connector-specific shape)."""


Factory = Callable[[dict[str, Any], dict[str, Any]], Connector]  # (settings, credentials)
_FACTORIES: dict[str, Factory] = {}


def register(kind: str) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        _FACTORIES[kind] = factory
        return factory
    return add


def kinds() -> list[str]:
    _load_all()
    return sorted(_FACTORIES)


def build(kind: str, settings: dict[str, Any], credentials: dict[str, Any]) -> Connector:
    """The connector for a source; SettingsError when `kind` is unknown or its settings are wrong."""
    _load_all()
    if kind not in _FACTORIES:
        raise SettingsError(f"kind: {kind!r} is not a connector (these are: {', '.join(sorted(_FACTORIES))})")
    return _FACTORIES[kind](settings, credentials)


def _load_all() -> None:
    # Each connector module registers itself on import; importing them here keeps the registry
    # whole wherever a connector is first asked for.
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name != "http":
            importlib.import_module(f"{__name__}.{module.name}")
