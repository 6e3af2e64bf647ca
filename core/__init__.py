"""The ground floor: the nouns every room speaks (ChatTask, Reply, Citation, Submitted, the
platforms' id patterns), the settings, the database pool, the RQ queue client, logging with
trace ids, sealed secrets, workspaces (the unit of isolation) and the Runtime that bundles them
for one process. Every other package stands on it; it imports nothing of ours."""
