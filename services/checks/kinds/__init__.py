"""The automated checks, one module each: ``@check(name, label=...)`` on an async function.

Nothing imports these modules by name: ``services.checks.base`` imports every module here
the first time the table of checks is read. A module whose name starts with ``_`` is skipped.
"""
