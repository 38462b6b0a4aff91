"""Test helpers: the Catch environment and a strict value comparator."""
