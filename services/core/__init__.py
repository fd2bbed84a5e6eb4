"""What every use case stands on: settings, the clock, the unit of work, errors, text rules and
deadline arithmetic. Imports nothing else of ``services``."""
