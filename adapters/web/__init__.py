"""Web adapter: the dashboard's playground and `morningai ask`, whose replies are posted to the
playground's message log."""
