"""Slack adapter: slack-bolt listeners in, Block Kit replies out."""
