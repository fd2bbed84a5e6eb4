"""Rectification cases: one case's transitions and the batched path, their effects and
storage, actions from pages and the API, submissions, listings, the case page, the unit
portal and the history audit."""
