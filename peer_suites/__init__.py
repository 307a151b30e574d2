"""Peer projects' own test suites, run with and without otel-distro (``make peer-suites``)."""
