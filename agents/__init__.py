"""The agent: a LangGraph graph that routes a task, searches memory, answers with citations
(or writes code, a document or FAQs) and checks what it says; the model providers, online and
offline. A task's text and context in, a Reply out: it knows no platform and no web framework.
Imports `core` and `memory`."""
