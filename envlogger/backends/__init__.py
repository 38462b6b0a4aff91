"""Storage backends of envlogger (writers, readers and schedulers)."""
