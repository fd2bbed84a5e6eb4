"""Prefect flows: thin tables of contents over the services, working in batches."""
