"""Front-end assets copied next to the HTML so reports work offline and load nothing from third parties.

Leaflet 1.9.4 (JS, CSS, control images) comes from the installed PyPI package ``django-js-lib-leaflet`` (static
files only; Django is not needed), the heat-map plugin from folium's own package data.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

ASSETS_DIR = "assets"


class MissingAsset(RuntimeError):
    pass


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise MissingAsset(f"the Python package {name!r} is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


def sources() -> dict[str, Path]:
    """Asset path under ``assets/`` -> installed file."""
    leaflet = _package_dir("js_lib_leaflet") / "static" / "js_lib_leaflet"
    folium_templates = _package_dir("folium") / "templates"
    files = {
        "leaflet/leaflet.js": leaflet / "leaflet.js",
        "leaflet/leaflet.css": leaflet / "leaflet.css",
        "leaflet-heat.js": folium_templates / "leaflet_heat.min.js",
    }
    for image in sorted((leaflet / "images").glob("*.png")):
        files[f"leaflet/images/{image.name}"] = image
    for source in files.values():
        if not source.is_file():
            raise MissingAsset(f"front-end asset {source} is missing from its package")
    return files


def copy_assets(out: Path) -> Path:
    """Copy the assets into ``out/assets`` (unchanged files are left alone); return that folder."""
    root = Path(out) / ASSETS_DIR
    for target, source in sources().items():
        dest = root / target
        if dest.is_file() and dest.stat().st_size == source.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    return root
