"""The ``rectify`` command line: translate arguments, call one use case, print."""
