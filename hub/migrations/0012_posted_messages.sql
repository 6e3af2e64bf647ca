-- A Discord thread opened on one of the bot's answers has that message's id: finding the task
-- that posted it (hub/tasks.py: thread_conversation) looks tasks up by their posted message.
CREATE INDEX tasks_by_posted_message ON tasks (posted_id) WHERE posted_id IS NOT NULL;
