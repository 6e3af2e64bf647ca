"""The agent: a LangGraph graph from a task's text to a Reply.

    route ─┬─ help / smalltalk / refused ─────────────┐
           ├─ faq <topic> ────────────────────────────┤
           └─ retrieve ─┬─ answer ─┐                   │
                        ├─ code ───┼─ check ─┐         │
                        ├─ docs ───┘         ├─ finish ┴─ END
                        └─ (no knowledge,  ──┘
                            approved FAQ)

With a chat model the nodes call it; without one they are extractive (agents/offline.py) and
say so. A thread's earlier turns come back through the checkpointer, keyed by platform,
channel and thread, so a follow-up ("and in staging?") is searched as a standalone question.

A question close to an approved FAQ is answered from it: `route` looks it up before it would
ask the model to classify, and `retrieve` serves it, so the reply costs no model tokens. For the
same reason a task given a `refusal` (a spending limit reached) still gets help, FAQ listings
and FAQ answers; only what would need the model gets the refusal.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TypedDict

import numpy as np
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from agents import prompts
from agents.check import MARKER, CheckedStream, check_code, check_reply, citation_for
from agents.confidence import Assessment, assess, unsure_reply
from agents.llm import ChatModel
from agents.offline import offline_answer, offline_code, offline_docs, shorten
from core.models import ChatTask, Citation, Reply
from memory.faqs import Faq
from memory.search import Hit

# (workspace, query, k, sources) -> hits; sources: the source ids to search, None for all
Search = Callable[[str, str, int, Sequence[str] | None], Sequence[Hit]]
HasKnowledge = Callable[[str], bool]  # has anything been ingested into this workspace?
Embed = Callable[[Sequence[str]], np.ndarray]
FaqAnswer = Callable[[str, str], Faq | None]  # (workspace, question) -> the approved FAQ answering it
FaqTopic = Callable[[str, str], Sequence[Faq]]  # (workspace, topic) -> approved FAQs about it

# What the agent tells a streamed run as it works: {"type": "status", "text", "sources"} or
# {"type": "text", "text"} (status_event and text_event).
Event = dict[str, Any]
OnEvent = Callable[[Event], None]

TEXT_EVERY = 0.05  # seconds between two pieces of a streamed answer's text
RECURSION_LIMIT = 12
HISTORY_TOKEN_BUDGET = 1500  # earlier turns kept for follow-ups, newest first
K = 6


class State(TypedDict, total=False):
    question: str
    kind: str
    workspace: str
    sources: list[str] | None  # the only sources this task may search (its channel's setting)
    meta: dict[str, str]
    route: str
    query: str
    hits: list[dict[str, Any]]
    assessment: dict[str, Any] | None  # how likely the hits answer the question (agents/confidence.py)
    empty: bool  # the workspace has no knowledge at all
    cached: dict[str, Any] | None  # the approved FAQ that answers the question
    reply: dict[str, Any]
    history: list[dict[str, str]]  # the thread's turns, kept by the checkpointer
    steps: list[dict[str, Any]]  # node timings of this run
    usage: dict[str, int]
    refusal: dict[str, Any] | None  # the reply for anything that would need the model
    kinds: list[str] | None  # what the task may be answered as (its channel's setting); None: anything
    streamed: bool  # someone watches the run: the model's answer is streamed to them as it is written


HELP = """\
**MorningAI** answers from your team's own knowledge.

- `ask <question>`: an answer with citations to your documents
- `code <request>`: code grounded in your repositories
- `docs <topic>`: a structured document
- `faq <topic>`: frequently asked questions
- `help`: this message"""

_GREETING = re.compile(r"^\W*(hi|hello|hey|thanks|thank you|good (morning|afternoon|evening)|cheers)\b[\W\w]{0,20}$",
                       re.IGNORECASE)
_CODE_REQUEST = re.compile(r"^\W*(write|generate|implement|create|refactor|fix)\b.*\b(code|function|script|"
                           r"class|test|snippet|query|endpoint|cli)\b", re.IGNORECASE)
# A plain question: what a knowledge bot is mostly asked, routed to `ask` without a model call.
_QUESTION = re.compile(r"^\W*(who|what|when|where|why|which|how|is|are|am|can|could|does|do|did|should|shall|"
                       r"will|would|may|has|have|was|were)\b[^\n]*\?\W*$", re.IGNORECASE)
_DOCS_REQUEST = re.compile(r"^\W*(write|draft|document|create)\b.*\b(doc|docs|documentation|guide|runbook|readme)\b",
                           re.IGNORECASE)


class Agent:
    def __init__(self, search: Search, has_knowledge: HasKnowledge, embed: Embed,
                 model: ChatModel | None = None, checkpointer=None, faq_answer: FaqAnswer | None = None,
                 faq_topic: FaqTopic | None = None, *, embedder_name: str):
        """`embedder_name` is the name of the embedder behind `search` and `embed`: how close
        is close, and so how sure an answer can be, depends on it (agents/confidence.py)."""
        self.search, self.has_knowledge, self.embed, self.model = search, has_knowledge, embed, model
        self.embedder_name = embedder_name
        self.faq_answer, self.faq_topic = faq_answer, faq_topic
        graph = StateGraph(State)
        for name, node in (("route", self._route), ("retrieve", self._retrieve), ("answer", self._answer),
                           ("code", self._code), ("docs", self._docs), ("direct", self._direct),
                           ("faq", self._faqs), ("check", self._check)):
            graph.add_node(name, _timed(name, node))
        graph.add_node("finish", self._finish)  # it writes the timings down, so it is not among them
        graph.add_edge(START, "route")
        graph.add_conditional_edges("route", _after_route, ["direct", "faq", "retrieve"])
        graph.add_conditional_edges("retrieve", _after_retrieve, ["answer", "code", "docs", "finish"])
        for node in ("answer", "code", "docs"):
            graph.add_edge(node, "check")
        graph.add_edge("check", "finish")
        graph.add_edge("direct", "finish")
        graph.add_edge("faq", "finish")
        graph.add_edge("finish", END)
        self.graph = graph.compile(checkpointer=checkpointer)
        # The thread's memory is the finished turn: saved once, when the run ends, not after every
        # node (a run cut short is run again from the start anyway).
        self._saving = {"durability": "exit"} if checkpointer is not None else {}

    def run(self, task: ChatTask, sources: Sequence[str] | None = None, refusal: Reply | None = None,
            kinds: Sequence[str] | None = None, on_event: OnEvent | None = None) -> Reply:
        """Answer the task; with `sources`, from those knowledge sources only; with `refusal`,
        without the model: what needs it gets the refusal instead; with `kinds`, a plain question
        is never answered as another kind than those. `on_event` is told what the agent is
        doing as it does it (see Event), and gets an answer's checked text as the model writes it."""
        thread = f"{task.platform}:{task.channel}:{task.thread}" if task.thread else f"task:{task.id}"
        meta = {"task": str(task.id), "trace_id": str(task.trace_id), "workspace": task.workspace}
        # Everything of the previous turn but the history starts afresh.
        start = {"question": task.text, "kind": task.kind, "workspace": task.workspace, "meta": meta,
                 "sources": None if sources is None else [str(source) for source in sources],
                 "refusal": None if refusal is None else refusal.to_dict(),
                 "kinds": None if kinds is None else list(kinds),
                 "query": None, "hits": [], "assessment": None, "empty": False, "cached": None, "reply": {},
                 "steps": [], "usage": {},
                 "streamed": on_event is not None}
        config = {"configurable": {"thread_id": thread}, "recursion_limit": RECURSION_LIMIT}
        if on_event is None:
            return Reply.from_dict(self.graph.invoke(start, config=config, **self._saving)["reply"])
        state: State = {}
        # The nodes' events come through LangGraph's custom stream (get_stream_writer).
        for mode, chunk in self.graph.stream(start, config=config, stream_mode=["custom", "values"], **self._saving):
            if mode == "custom":
                on_event(chunk)
            else:
                state = chunk
        return Reply.from_dict(state["reply"])

    # --- nodes ---------------------------------------------------------------------------

    def _route(self, state: State) -> State:
        refused = state.get("refusal") is not None
        if state["kind"] != "ask":  # a slash command said what it wants
            needs_model = state["kind"] in ("code", "docs")
            return {"route": "refused" if refused and needs_model else state["kind"]}
        text = state["question"].strip()
        if text.lower() in ("help", "?", "what can you do?", "what can you do"):
            return {"route": "help"}
        # An approved FAQ may cite any source of the workspace: not where answers are limited.
        serve_faqs = self.faq_answer is not None and state.get("sources") is None
        faq = self.faq_answer(state["workspace"], text) if serve_faqs else None
        if faq is not None:  # a known question: no need to ask the model what it is
            return {"route": "ask", "cached": {"id": str(faq.id), "question": faq.question, "answer": faq.answer,
                                               "sources": faq.sources, "similarity": faq.similarity}}
        if refused:
            return {"route": "refused"}
        update: State = {}
        route = _route_if_clear(text)
        if route is None and self.model is not None:  # only what the rules cannot tell costs a call
            completion = self.model.complete(
                [{"role": "system", "content": prompts.ROUTE}, {"role": "user", "content": text}],
                max_tokens=3, temperature=0)
            word = completion.text.strip().lower().strip(".")
            route = word if word in ("ask", "code", "docs", "faq", "help", "smalltalk") else "ask"
            update["usage"] = _add_usage(state, completion)
        route = route or "ask"
        # A channel that takes some kinds only: a question that reads like a request for code, a
        # doc or FAQs is answered as the question it also is.
        if route in ("code", "docs", "faq") and state.get("kinds") is not None and route not in state["kinds"]:
            route = "ask"
        return {**update, "route": route}

    def _retrieve(self, state: State) -> State:
        if state.get("cached"):
            _tell(status_event("Found an approved FAQ", sources=state["cached"]["sources"]))
            return {"query": state["question"], "reply": _faq_reply(state["cached"]).to_dict()}
        _tell(status_event("Searching your docs…"))
        query, usage = self._standalone_query(state)
        found = self._search(state["workspace"], state["question"], query, state.get("sources"))
        if not found["empty"]:
            hits = _hits(found)
            found_words = f"Found {len(hits)} passage{'s' * (len(hits) != 1)}" if hits else "Found nothing relevant"
            _tell(status_event(found_words, sources=[asdict(citation_for(hit)) for hit in hits]))
        return {**found, "usage": usage}

    def _search(self, workspace: str, question: str, query: str, sources: Sequence[str] | None = None) -> State:
        if not self.has_knowledge(workspace):
            return {"query": query, "hits": [], "empty": True, "reply": Reply(text=(
                f"No knowledge base yet: workspace `{workspace}` has no documents to search, "
                f"so I can't answer “{shorten(question)}” from your team's knowledge, and I "
                "won't guess. Add documents with `morningai ingest PATH`.")).to_dict()}
        hits = self.search(workspace, query, K, sources)
        # With a model, a follow-up's query is its standalone rewording. Offline it is the earlier
        # question and this one run together, which would lend this one the earlier one's
        # confidence; the offline answer quotes for the question as asked, so that is judged.
        judged = query if self.model is not None else question
        assessment = assess(judged, hits, self.embed, self.embedder_name)
        return {"query": query, "hits": [asdict(hit) for hit in hits], "empty": False,
                "assessment": asdict(assessment)}

    def draft(self, question: str, workspace: str) -> Reply:
        """A grounded answer to `question` on its own, for a FAQ draft: search, answer, check.
        No routing, thread or FAQ: a draft must come from the documents, not from a FAQ."""
        state: State = {"question": question, "workspace": workspace, "route": "ask", "history": [],
                        "usage": {}, **self._search(workspace, question, question)}
        if not state["empty"]:
            state.update(self._answer(state))
            state.update(self._check(state))
        reply = Reply.from_dict(state["reply"])
        return Reply(text=reply.text, citations=reply.citations, metadata={
            **reply.metadata, **_confidence(state), "tokens": _tokens(state)})

    def _standalone_query(self, state: State) -> tuple[str, dict[str, int]]:
        history = state.get("history") or []
        question = state["question"]
        if not history:
            return question, state.get("usage", {})
        if self.model is not None:
            completion = self.model.complete(
                [{"role": "system", "content": prompts.REWRITE}, *history, {"role": "user", "content": question}],
                max_tokens=60, temperature=0)
            return completion.text.strip() or question, _add_usage(state, completion)
        # Offline: a follow-up is read together with the question it follows.
        last_question = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
        return f"{last_question} {question}".strip(), state.get("usage", {})

    def _answer(self, state: State) -> State:
        hits = _hits(state)
        assessment, usage = Assessment(**state["assessment"]), state.get("usage") or {}
        if not assessment.sure and self.model is not None and hits:
            assessment, usage = self._judge(state, hits, assessment)
        if not assessment.sure:
            provider = self.model.name if self.model else "offline"
            return {"reply": unsure_reply(state["question"], hits, assessment, provider).to_dict(),
                    "assessment": asdict(assessment), "usage": usage}
        if self.model is None:
            return {"reply": offline_answer(state["question"], hits, self.embed).to_dict()}
        _tell(status_event("Writing the answer"))
        shown = CheckedStream(hits)
        completion = self.model.complete(prompts.messages(prompts.SYSTEM, state["question"], hits,
                                                          state.get("history") or []),
                                         on_delta=_shown_as_written(state, shown))
        _tell(text_event(shown.close()))
        return {"reply": _cited_reply(completion.text, hits, self.model.name).to_dict(),
                "usage": _add_usage({"usage": usage}, completion), "assessment": asdict(assessment)}

    def _judge(self, state: State, hits: Sequence[Hit], assessment: Assessment) -> tuple[Assessment, dict[str, int]]:
        """The model's verdict on whether the passages answer the question: one word, asked only
        when the retrieval score alone would give up (see agents/confidence.py)."""
        _tell(status_event("Checking whether your docs answer this"))
        completion = self.model.complete(prompts.messages(prompts.JUDGE, state["query"], hits),
                                         max_tokens=2, temperature=0)
        word = completion.text.strip().lower().strip(".!")
        verdict = True if word.startswith("yes") else False if word.startswith("no") else None
        return assessment.judged(verdict), _add_usage(state, completion)

    def _code(self, state: State) -> State:
        hits = _hits(state)
        if self.model is None:
            return {"reply": offline_code(state["question"], hits, self.embed).to_dict()}
        chat = prompts.messages(prompts.CODE, state["question"], hits)
        # Not streamed: code that fails its checks is written again, and shown text stays shown.
        _tell(status_event("Writing the code"))
        completion = self.model.complete(chat)
        usage = _add_usage(state, completion)
        text, problems = completion.text, check_code(completion.text)
        if problems:  # one repair round, then post what we have with a visible warning
            _tell(status_event("Fixing the code"))
            repaired = self.model.complete([*chat, {"role": "assistant", "content": text},
                                            {"role": "user", "content": f"{prompts.REPAIR}\n\n{problems}"}])
            usage = _add_usage({"usage": usage}, repaired)
            text, problems = repaired.text, check_code(repaired.text)
            if problems:
                text += f"\n\n⚠️ This code still fails its checks:\n```\n{problems}\n```"
        return {"reply": _cited_reply(text, hits, self.model.name).to_dict(), "usage": usage}

    def _docs(self, state: State) -> State:
        hits = _hits(state)
        meta = state["meta"]
        if self.model is None:
            return {"reply": offline_docs(state["question"], hits, self.embed, meta=meta).to_dict()}
        _tell(status_event("Writing the document"))
        shown = CheckedStream(hits)
        completion = self.model.complete(prompts.messages(prompts.DOCS, state["question"], hits), max_tokens=2000,
                                         on_delta=_shown_as_written(state, shown))
        footer = (f"\n\n---\n_task {meta['task']} · trace {meta['trace_id']} · model {self.model.name} · "
                  f"workspace {meta['workspace']}_")
        shown.add(footer)
        _tell(text_event(shown.close()))
        return {"reply": _cited_reply(completion.text + footer, hits, self.model.name).to_dict(),
                "usage": _add_usage(state, completion)}

    def _direct(self, state: State) -> State:
        if state["route"] == "refused":
            return {"reply": state["refusal"]}
        if state["route"] == "help":
            return {"reply": Reply(text=HELP).to_dict()}
        return {"reply": Reply(text="Hello! Ask me anything about your team's documents, "
                                    "or say `help` to see what I can do.").to_dict()}

    def _faqs(self, state: State) -> State:
        """`faq <topic>`: the approved FAQs on it, each with its own citations."""
        topic = state["question"].strip()
        about = f" about “{shorten(topic)}”" if topic else ""
        if state.get("sources") is not None:
            return {"reply": Reply(text=(
                f"FAQs{about} are not listed in this channel: it answers from some of the workspace's "
                "sources only, and FAQs may cite any of them. Ask the question itself and I'll answer "
                "from the sources this channel uses.")).to_dict()}
        found = self.faq_topic(state["workspace"], topic) if self.faq_topic else []
        if not found:
            return {"reply": Reply(text=(
                f"There are no approved FAQs{about} in workspace `{state['workspace']}` yet. Ask the "
                "question itself and I'll answer from your team's documents; FAQs are drafted from the "
                "questions people ask (`morningai faq generate`) and appear here once an admin "
                "approves them.")).to_dict()}
        parts, citations = [f"**Frequently asked{about}:**"], []
        for faq in found:
            # Each FAQ's [n] point into its own sources: shift them past the earlier FAQs'.
            shift = len(citations)
            answer = MARKER.sub(lambda m, s=shift: f"[{int(m[1]) + s}]", faq.answer)
            parts.append(f"**{faq.question}**\n\n{answer}")
            citations += [Citation(**source) for source in faq.sources]
        return {"reply": Reply(text="\n\n".join(parts), citations=tuple(citations),
                               metadata={"faqs": [str(faq.id) for faq in found]}).to_dict()}

    def _check(self, state: State) -> State:
        _tell(status_event("Checking citations"))
        return {"reply": check_reply(Reply.from_dict(state["reply"]), _hits(state)).to_dict()}

    def _finish(self, state: State) -> State:
        reply = Reply.from_dict(state["reply"])
        metadata = {**reply.metadata, **state["meta"], "route": state["route"],
                    "model": self.model.name if self.model else "offline", "query": state.get("query"),
                    "steps": state["steps"], "tokens": _tokens(state), **_confidence(state)}
        history = _bounded([*(state.get("history") or []), {"role": "user", "content": state["question"]},
                            {"role": "assistant", "content": reply.text}])
        return {"reply": {**reply.to_dict(), "metadata": metadata}, "history": history}


def status_event(words: str, sources: Sequence[dict[str, Any]] = ()) -> Event:
    """What the agent is doing, for the user to see while it works ("Searching your docs…"),
    with the sources it is working from where there are some."""
    return {"type": "status", "text": words, "sources": list(sources)}


def text_event(piece: str) -> Event:
    """More of the answer's checked text, as the model writes it."""
    return {"type": "text", "text": piece}


def _shown_as_written(state: State, shown: CheckedStream) -> Callable[[str], None] | None:
    """The model's on_delta in a streamed run: the text so far, checked, to whoever watches, at
    most every TEXT_EVERY seconds (each check reads the whole text so far)."""
    if not state.get("streamed"):
        return None  # nobody watches: the model answers in one piece, and nothing is checked twice
    last = 0.0

    def on_delta(piece: str) -> None:
        nonlocal last
        shown.add(piece)
        if time.monotonic() - last >= TEXT_EVERY:
            last = time.monotonic()
            _tell(text_event(shown.take()))
    return on_delta


def _tell(event: Event) -> None:
    if event["type"] == "text" and not event["text"]:
        return
    try:
        write = get_stream_writer()  # a no-op in a run that is not streamed
    except RuntimeError:
        return  # a node called outside a run (Agent.draft)
    write(event)


def _route_if_clear(text: str) -> str | None:
    """The route the wording alone decides; None when it takes a model (or, offline, a guess)."""
    if _GREETING.match(text):
        return "smalltalk"
    if _CODE_REQUEST.match(text):
        return "code"
    if _DOCS_REQUEST.match(text):
        return "docs"
    if _QUESTION.match(text):
        return "ask"
    return None


def _after_route(state: State) -> str:
    nodes = {"help": "direct", "smalltalk": "direct", "refused": "direct", "faq": "faq"}
    return nodes.get(state["route"], "retrieve")


def _after_retrieve(state: State) -> str:
    if state.get("empty") or state.get("cached"):
        return "finish"
    return {"code": "code", "docs": "docs"}.get(state["route"], "answer")


def _timed(name: str, node: Callable[[State], State]) -> Callable[[State], State]:
    def run(state: State) -> State:
        began = time.perf_counter()
        update = node(state)
        step = {"node": name, "ms": round((time.perf_counter() - began) * 1000, 2)}
        return {**update, "steps": [*state.get("steps", []), step]}
    return run


def _hits(state: State) -> list[Hit]:
    return [Hit(**hit) for hit in state.get("hits") or []]


def _cited_reply(text: str, hits: Sequence[Hit], model: str) -> Reply:
    return Reply(text=text, citations=tuple(citation_for(hit) for hit in hits), metadata={"provider": model})


def _faq_reply(faq: dict[str, Any]) -> Reply:
    return Reply(text=f"{faq['answer']}\n\n_From your team's approved FAQ: “{faq['question']}”_",
                 citations=tuple(Citation(**source) for source in faq["sources"]),
                 metadata={"provider": "faq", "faq": faq["id"]})


def _confidence(state: State) -> dict[str, Any]:
    """How sure the reply is: the served FAQ's similarity to the question, else how likely the
    passages answer it (agents/confidence.py), with the threshold it was held to and whether
    the answer gave up (it did, too, when the offline answerer found no sentence to quote).
    FAQ generation drafts FAQs for the questions answered unsurely."""
    if state.get("cached"):
        return {"confidence": round(state["cached"]["similarity"], 4), "abstained": False}
    if not state.get("assessment"):  # nothing was searched: help, small talk, or no knowledge at all
        return {"confidence": 0.0, "abstained": True} if state.get("empty") else {"confidence": 0.0}
    found = Assessment(**state["assessment"]).metadata()
    if state.get("route") in ("code", "docs"):  # they show what they found: no answer to give up
        del found["abstained"]
    elif state["reply"].get("metadata", {}).get("grounded") is False:
        found["abstained"] = True
    return found


def _tokens(state: State) -> dict[str, int]:
    usage = state.get("usage") or {}
    return {"prompt": usage.get("prompt", 0), "completion": usage.get("completion", 0)}


def _add_usage(state: State, completion) -> dict[str, int]:
    usage = dict(state.get("usage") or {})
    usage["prompt"] = usage.get("prompt", 0) + completion.prompt_tokens
    usage["completion"] = usage.get("completion", 0) + completion.completion_tokens
    return usage


def _bounded(history: list[dict[str, str]]) -> list[dict[str, str]]:
    """The newest turns that fit the budget (about 4 characters a token)."""
    kept, total = [], 0
    for turn in reversed(history):
        total += len(turn["content"]) // 4 + 1
        if total > HISTORY_TOKEN_BUDGET and kept:
            break
        kept.append(turn)
    return kept[::-1]
