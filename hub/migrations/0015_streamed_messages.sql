-- The message an answer is streamed into, kept as soon as the platform gives it an id: a worker
-- that dies mid-stream leaves it behind, and the re-run finishes or replaces that message
-- instead of posting a second answer (worker/posters.py: Streams).
ALTER TABLE tasks ADD COLUMN streamed_id text;
