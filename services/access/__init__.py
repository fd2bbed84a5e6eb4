"""Who may act: user accounts and their web sessions, API tokens, units' portal links."""
