"""Discord adapter: the discord.py gateway bot, the interactions endpoint, posting."""
