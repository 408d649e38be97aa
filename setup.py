"""Packaging beyond what pyproject.toml can say: the repository's ``queries/`` and ``notebooks/`` folders are
shipped inside the package as ``stats_lib/queries`` and ``stats_lib/notebooks`` (see stats_lib/resources.py)."""

from setuptools import find_namespace_packages, setup

DATA = {"stats_lib.queries": "queries", "stats_lib.notebooks": "notebooks"}
packages = find_namespace_packages(include=["stats_lib*"], exclude=["*.__pycache__"])
for package, folder in DATA.items():
    found = find_namespace_packages(where=folder, exclude=["*.__pycache__", ".*", "*.ipynb_checkpoints"])
    packages += [package, *(f"{package}.{sub}" for sub in found)]

setup(
    packages=packages,
    package_dir={package: folder for package, folder in DATA.items()},
)
