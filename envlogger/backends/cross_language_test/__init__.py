"""Cross-language test: a dataset written from Python is read and checked in C++."""
