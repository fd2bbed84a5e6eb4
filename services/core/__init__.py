"""What every use case stands on: settings, the clock, the unit of work, errors, text rules,
deadline arithmetic and the snapshot cache. Imports nothing else of ``services``."""
