"""Conversions between Python values, dm_env specs and envlogger protos."""
