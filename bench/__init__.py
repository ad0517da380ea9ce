"""`make bench`: the load benchmark (see bench/run.py)."""
