"""Running tasks, third on the data path: a worker process claims a queued task, applies its
channel's rules and the spending limits, asks the agent for a Reply and hands it to the poster
registered for the task's platform, posting it once. Owns the `channel_settings` table. Imports
`core`, `tasks`, `agents` and `memory`; never `adapters`: posters are handed in by `hub`."""
