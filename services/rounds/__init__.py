"""Inspection rounds: their data and tallies, publication, the recheck and its outcomes, the
overdue sweep, and runs shared between workers."""
