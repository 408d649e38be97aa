"""The report notebooks, shipped inside the package as stats_lib.notebooks (see stats_lib/resources.py)."""
