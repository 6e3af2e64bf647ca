"""Memory, the knowledge the agent searches: sources listed, parsed, chunked, embedded and
stored in pgvector per workspace under Row Level Security, then searched (vectors and full
text, fused); and the approved FAQs. Sources in, passages with citations out. Imports `core`."""
