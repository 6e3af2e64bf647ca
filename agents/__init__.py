"""The agent core: a task's text and context in, a Reply out. Knows no platform and no web framework."""
