"""Where the package's own files are: the SQL queries and the report notebooks, found by import, not by path.

In a checkout they are the repository's ``queries/`` and ``notebooks/`` folders; the package maps them in as
``stats_lib.queries`` and ``stats_lib.notebooks`` (``setup.py``), so an editable install finds them there and a
wheel carries them inside ``stats_lib/``. Nothing here depends on the working directory.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_folder(name: str) -> Path:
    """The folder of the data package ``stats_lib.<name>`` (``queries``, ``queries.shared``, ``notebooks``)."""
    spec = importlib.util.find_spec(f"stats_lib.{name}")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if locations:
        return Path(locations[0])
    # an editable install made before setup.py mapped these folders (``pip install -e .`` again fixes it)
    checkout = Path(__file__).resolve().parent.parent.joinpath(*name.split("."))
    if (checkout / "__init__.py").is_file():
        return checkout
    raise FileNotFoundError(f"stats_lib.{name} is missing from the installed package; reinstall site-stats")


def queries_dir() -> Path:
    """The folder of ``queries/*.sql`` (with ``shared/`` and ``rollups/`` inside)."""
    return package_folder("queries")


def notebooks_dir() -> Path:
    """The folder of the report notebooks (``notebooks/*.ipynb``)."""
    return package_folder("notebooks")
