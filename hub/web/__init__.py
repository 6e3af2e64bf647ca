"""The web side: the Flask app factory, and one blueprint module per feature (messages and
tasks, knowledge, FAQs, feedback, integrations, the admin API, auth, health, metrics, the
OpenAPI document), mounting the Slack and Discord endpoints the adapters provide."""
