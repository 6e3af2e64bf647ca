"""The agent tests' set-up: documents written to a folder and ingested, and an agent over them."""

from agents.graph import Agent
from memory.ingest import ingest
from memory.search import search


def ingested(rt, embedder, folder, files: dict[str, str]):
    """`files` (name -> text) written into `folder` and ingested into the default workspace."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    ingest(rt.db, embedder, [str(folder)])
    return folder


def agent(rt, embedder, model=None, checkpointer=None) -> Agent:
    """The agent over the default workspace's memory, as hub/wiring.py builds it (FAQs aside)."""
    return Agent(search=lambda ws, q, k, sources: search(rt.db, embedder, ws, q, k=k, sources=sources),
                 has_knowledge=lambda ws: True, embed=embedder.embed, embedder_name=embedder.name, model=model,
                 checkpointer=checkpointer)
