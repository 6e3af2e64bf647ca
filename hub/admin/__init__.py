"""What the dashboard's administrators own: accounts and sessions, the settings changed in
the dashboard, and the sealed, write-only secrets set there."""
