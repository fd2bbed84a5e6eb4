"""Which emails a change causes (outbox rows in the caller's transaction), the read models
they need, delivery of the outbox and its administration."""
