"""Platform adapters: each translates between its platform and ChatTask / Reply."""
