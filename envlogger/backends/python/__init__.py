"""Python-side helper types of the backends (upstream: compiled modules)."""
