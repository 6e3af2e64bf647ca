"""The platforms' doors, first and last on the data path: each subpackage turns its platform's
events into ChatTasks handed to the hub (through a small `Hub` of callables the composition root
makes), and renders a Reply as its platform's messages for the worker's posters. Each owns its
platform's own tables (Slack installations, Discord guilds, the playground's messages). An
adapter only translates: it imports `core`, and never tasks, memory, agents or the worker."""
