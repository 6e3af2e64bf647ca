"""Memory: ingest, embed, store and search a workspace's documents."""
