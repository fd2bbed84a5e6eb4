"""The topology test: the whole system on this machine as an operator runs it (``make test-topology``)."""
