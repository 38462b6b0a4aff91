"""Runnable examples of envlogger."""
