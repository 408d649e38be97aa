"""The visitor map: folium (Leaflet) with sized circles per city, a heat layer and CloudFront edge locations as
a fallback layer, saved as its own HTML page that loads nothing from third parties.

Privacy: a place is drawn only when it had at least ``k`` different visitors on one day (its
``peak_day_visitors``: visitor ids change daily, so a period's summed visitors could be one person on k
days). Smaller places are merged up to their country, drawn at the country's centre; a country that still has
fewer than ``k`` is left off and counted in the note. The heat layer uses the same cells.

Safety: every tooltip is built here with ``html.esc`` and handed to the page as JSON (``tojson``), never
pasted into JavaScript source; the page carries a CSP that allows only its own (hashed) inline scripts.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import folium
import pandas as pd
from branca.element import MacroElement
from folium.map import Layer
from folium.plugins import HeatMap
from jinja2 import Template

from . import csp, land
from .assets import ASSETS_DIR, copy_assets
from .html import DBIP_ATTRIBUTION, Html, esc

DEFAULT_K = 5
CITY_COLOUR = "#2563eb"
COUNTRY_COLOUR = "#9333ea"
EDGE_COLOUR = "#f97316"


@functools.lru_cache(maxsize=1)
def country_centres() -> dict[str, tuple[float, float]]:
    """A rough centre per ISO country code: the median position of its airports with an IATA code
    (package ``airportsdata``): good enough to place a country-level circle, and it reveals no visitor's town."""
    import airportsdata

    by_country: dict[str, list[tuple[float, float]]] = {}
    for airport in airportsdata.load("IATA").values():
        by_country.setdefault(airport["country"], []).append((float(airport["lat"]), float(airport["lon"])))
    centres = {}
    for code, points in by_country.items():
        lats = sorted(p[0] for p in points)
        lons = sorted(p[1] for p in points)
        centres[code] = (lats[len(lats) // 2], lons[len(lons) // 2])
    return centres


@dataclass
class MapCells:
    cells: pd.DataFrame  # kind, label (escaped HTML), place, country, latitude, longitude, visitors, pageviews
    k: int
    hidden_visitors: int = 0
    hidden_places: int = 0
    merged_places: int = 0

    def note(self) -> str:
        parts = [f"Places are shown only when at least {self.k} different visitors came from there on one day."]
        if self.merged_places:
            parts.append(f"{self.merged_places} smaller place(s) were merged into their country.")
        if self.hidden_places:
            parts.append(f"{self.hidden_visitors} visitor(s) from {self.hidden_places} place(s) whose country stayed "
                         f"below {self.k} are not shown.")
        return " ".join(parts)


_CELL_COLUMNS = ["kind", "label", "place", "country", "latitude", "longitude", "visitors", "pageviews"]


def k_anonymise(cities: pd.DataFrame | None, k: int = DEFAULT_K) -> MapCells:
    """City cells with ``peak_day_visitors >= k``; the rest merged per country (drawn at its centre when the
    country's own one-day peak reaches ``k``), else hidden. Input: a ``map_cities`` result."""
    if cities is None or cities.empty:
        return MapCells(pd.DataFrame(columns=_CELL_COLUMNS), k)
    frame = cities.copy()
    for col in ("visitors", "peak_day_visitors", "pageviews"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype(int)
    if "country_peak_day_visitors" not in frame:
        frame["country_peak_day_visitors"] = frame.groupby("country_code", dropna=False)["peak_day_visitors"].transform("max")
    frame["country_peak_day_visitors"] = pd.to_numeric(frame["country_peak_day_visitors"], errors="coerce").fillna(0)
    big = frame[frame["peak_day_visitors"] >= k]
    small = frame[frame["peak_day_visitors"] < k]
    rows = []
    for r in big.itertuples(index=False):
        place = r.city if isinstance(r.city, str) and r.city else "(unknown city)"
        country = r.country if isinstance(r.country, str) and r.country else (r.country_code or "")
        label = (f"<strong>{esc(place)}</strong>{', ' + esc(country) if country else ''}<br>"
                 f"{r.visitors:,} visitors · {r.pageviews:,} pageviews")
        rows.append(("city", label, place, country, float(r.latitude), float(r.longitude), r.visitors, r.pageviews))
    hidden_visitors = hidden_places = merged = 0
    centres = country_centres()
    for code, group in small.groupby(small["country_code"].fillna(""), sort=True):
        peak = int(group["country_peak_day_visitors"].max())
        centre = centres.get(str(code).upper()) if code else None
        if peak < k or centre is None:
            hidden_visitors += int(group["visitors"].sum())
            hidden_places += len(group)
            continue
        merged += len(group)
        names = group["country"].dropna()
        country = str(names.iloc[0]) if len(names) else str(code)
        visitors, pageviews = int(group["visitors"].sum()), int(group["pageviews"].sum())
        label = (f"<strong>{esc(country)}</strong> (other places)<br>"
                 f"{visitors:,} visitors · {pageviews:,} pageviews")
        rows.append(("country", label, country, country, centre[0], centre[1], visitors, pageviews))
    cells = pd.DataFrame(rows, columns=_CELL_COLUMNS).sort_values("visitors", ascending=False, ignore_index=True)
    return MapCells(cells, k, hidden_visitors, hidden_places, merged)


def edge_cells(edges: pd.DataFrame | None, k: int = DEFAULT_K) -> pd.DataFrame:
    """CloudFront edge locations (``map_edges``) with at least ``k`` visitors on one day."""
    if edges is None or edges.empty:
        return pd.DataFrame(columns=_CELL_COLUMNS)
    rows = []
    for r in edges.itertuples(index=False):
        if int(r.peak_day_visitors or 0) < k:
            continue
        place = r.edge_city if isinstance(r.edge_city, str) and r.edge_city else "(unknown edge)"
        label = (f"<strong>Edge {esc(place)}</strong><br>{int(r.hits):,} hits · {int(r.visitors):,} visitors")
        rows.append(("edge", label, place, "", float(r.latitude), float(r.longitude), int(r.visitors), int(r.pageviews)))
    return pd.DataFrame(rows, columns=_CELL_COLUMNS)


class _CircleLayer(Layer):
    """Circles from JSON data; tooltips are pre-escaped HTML strings."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.featureGroup();
{{ this.data|tojson }}.forEach(function (c) {
    L.circleMarker([c.lat, c.lon], {radius: c.radius, color: c.colour, weight: 1,
                                    fillColor: c.colour, fillOpacity: 0.45})
        .bindTooltip(c.label, {sticky: true})
        .addTo({{ this.get_name() }});
});
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, cells: pd.DataFrame, name: str, colour: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "CircleLayer"
        top = max([int(v) for v in cells["visitors"]] or [1]) or 1
        self.data = [
            {"lat": float(r.latitude), "lon": float(r.longitude), "label": str(r.label),
             "radius": round(4 + 18 * math.sqrt(max(int(r.visitors), 0) / top), 1),
             "colour": COUNTRY_COLOUR if r.kind == "country" else colour}
            for r in cells.itertuples(index=False)
        ]


class _CountryLayer(Layer):
    """Land and borders from the offline country polygons, each country shaded by its (k-anonymous) visitors;
    tooltips are pre-escaped HTML strings passed as JSON."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
    interactive: true,
    style: function (f) { return {color: {{ this.border|tojson }}, weight: 0.7, fillColor: f.properties.fill,
                                  fillOpacity: 1}; },
    onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.label, {sticky: true}); }
});
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, shades: land.Choropleth) -> None:
        super().__init__(name="Visitors by country", overlay=True, control=True, show=True)
        self._name = "CountryLayer"
        self.border = land.BORDER
        features = []
        for country in land.countries():
            value = shades.visitors.get(country.code)
            label = f"<strong>{esc(country.name)}</strong>" + (f"<br>{value:,} visitors" if value is not None else "")
            features.append({"type": "Feature", "geometry": country.geometry,
                             "properties": {"fill": shades.shade(country.code) or land.LAND, "label": label}})
        self.data = {"type": "FeatureCollection", "features": features}


class _Legend(MacroElement):
    """A legend in the map's corner: the country shades and the circle colours (labels escaped here)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "legend");
        div.innerHTML = {{ this.html|tojson }};
        return div;
    };
    legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    def __init__(self, items: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self._name = "Legend"
        rows = "".join(
            f'<div><span class="{kind}" style="background:{colour}"></span>{esc(label)}</div>'
            for label, colour, kind in items
        )
        self.html = f"<strong>Visitors</strong>{rows}"


LEGEND_CSS = ("<style>.legend{background:#fff;padding:6px 9px;border:1px solid #cbd5e1;border-radius:6px;"
              "font:12px/1.5 system-ui,sans-serif;color:#0f172a}.legend span{display:inline-block;width:12px;"
              "height:12px;margin-right:6px;vertical-align:-2px;border:1px solid #94a3b8}.legend span.circle"
              "{border-radius:50%;opacity:.75}.leaflet-container{background:" + land.SEA + " !important}</style>")


def legend_items(vmap_cells: MapCells, edges: pd.DataFrame, shades: land.Choropleth) -> list[tuple[str, str, str]]:
    """(label, colour, 'square' or 'circle') for the map's legend."""
    items = [(label, colour, "square") for label, colour in shades.legend()]
    kinds = set(vmap_cells.cells["kind"]) if not vmap_cells.cells.empty else set()
    if "city" in kinds:
        items.append(("a city (circle size: visitors)", CITY_COLOUR, "circle"))
    if "country" in kinds:
        items.append(("other places of a country, merged", COUNTRY_COLOUR, "circle"))
    if not edges.empty:
        items.append(("a CloudFront edge location", EDGE_COLOUR, "circle"))
    return items


class _Attribution(MacroElement):
    _template = Template(
        """
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
{% endmacro %}
"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = esc(text)


@dataclass
class VisitorMap:
    map: folium.Map
    cells: MapCells
    edges: pd.DataFrame
    tiles: str | None = None
    img_sources: tuple[str, ...] = field(default_factory=tuple)
    shades: land.Choropleth = field(default_factory=lambda: land.Choropleth({}, (DEFAULT_K,), DEFAULT_K))

    def note(self) -> str:
        text = self.cells.note()
        if self.cells.cells.empty and not self.edges.empty:
            text += " No city locations in this period: the CloudFront edge locations layer is shown instead."
        if self.cells.cells.empty and self.edges.empty:
            text += " Nothing to draw for this period."
        return text


def _tile_origin(tiles: str) -> str | None:
    layer = folium.TileLayer(tiles)
    url = str(layer.tiles)
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc
    if "{s}" in url:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def visitor_map(
    cities: pd.DataFrame | None,
    edges: pd.DataFrame | None = None,
    *,
    k: int = DEFAULT_K,
    tiles: str | None = None,
    geo_attribution: bool = True,
) -> VisitorMap:
    """A folium map of ``map_cities`` (and ``map_edges``) results. ``tiles=None`` (default) draws no base map,
    so the page makes no third-party request; pass e.g. ``"OpenStreetMap"`` to add one (its host is then allowed
    by the page's CSP)."""
    cells = k_anonymise(cities, k)
    edge = edge_cells(edges, k)
    m = folium.Map(location=[25, 10], zoom_start=2, min_zoom=1, tiles=None, control_scale=True,
                   zoom_control=True,
                   world_copy_jump=True, prefer_canvas=False)
    m.default_js = [("leaflet", f"{ASSETS_DIR}/leaflet/leaflet.js")]
    m.default_css = [("leaflet_css", f"{ASSETS_DIR}/leaflet/leaflet.css")]
    img_sources: tuple[str, ...] = ()
    shades = land.choropleth(cities, k)
    _CountryLayer(shades).add_to(m)
    if tiles:
        folium.TileLayer(tiles, name="Base map", control=False).add_to(m)
        origin = _tile_origin(tiles)
        img_sources = (origin,) if origin else ()
    if not cells.cells.empty:
        _CircleLayer(cells.cells, "Visitors by place", CITY_COLOUR).add_to(m)
        heat = HeatMap(
            [[float(r.latitude), float(r.longitude), float(r.visitors)] for r in cells.cells.itertuples(index=False)],
            name="Heat map", radius=22, blur=18, min_opacity=0.3, show=True,
        )
        heat.default_js = [("leaflet-heat.js", f"{ASSETS_DIR}/leaflet-heat.js")]
        heat.add_to(m)
    if not edge.empty:
        _CircleLayer(edge, "CloudFront edge locations", EDGE_COLOUR, show=cells.cells.empty).add_to(m)
    if geo_attribution:
        _Attribution(DBIP_ATTRIBUTION).add_to(m)
    _Legend(legend_items(cells, edge, shades)).add_to(m)
    points = pd.concat([cells.cells, edge]) if not edge.empty else cells.cells
    if not points.empty:
        lat, lon = points["latitude"].astype(float), points["longitude"].astype(float)
        m.fit_bounds([[lat.min(), lon.min()], [lat.max(), lon.max()]], max_zoom=6, padding=(30, 30))
    folium.LayerControl(collapsed=False).add_to(m)
    return VisitorMap(m, cells, edge, tiles, img_sources, shades)


@dataclass
class MapFile:
    """A saved map page; shows as an iframe (src relative to the working directory) with a note."""

    path: Path
    note: str = ""
    height: int = 520

    def _repr_html_(self) -> str:
        src = Path(os.path.relpath(self.path.resolve(), Path.cwd().resolve())).as_posix()
        return Html(
            f'<section class="block map"><iframe class="map" src="{esc(src)}" title="Visitor map" '
            f'style="width:100%;height:{self.height}px;border:1px solid #cbd5e1"></iframe>'
            f'<p class="note">{esc(self.note)} <a href="{esc(src)}">Open the map on its own page</a>.</p></section>'
        )


def save_map(vmap: VisitorMap, path: str | Path) -> MapFile:
    """Write the map as a standalone page beside its ``assets/`` folder, with a Content-Security-Policy."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy_assets(path.parent)
    document = vmap.map.get_root().render()
    title = "<title>Visitor map</title>" + LEGEND_CSS
    document = document.replace("<head>", "<head>\n    " + title, 1)
    document = csp.insert_meta(document, csp.map_policy(document, vmap.img_sources))
    path.write_text(document, encoding="utf-8")
    return MapFile(path, vmap.note())


# -- the drawn map: the same land, shades and circles as an inline SVG (no script; fits the single-file report)
_NORTH, _SOUTH = 84.0, -58.0  # latitudes shown (Antarctica left out)


def _svg_path(geometry: dict, width: int, height: int) -> str:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = [((lon + 180) / 360 * width, (_NORTH - lat) / (_NORTH - _SOUTH) * height) for lon, lat in ring]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def _world_drawing(vmap: VisitorMap, width: int) -> str:
    from .svg import Canvas

    height = round(width * (_NORTH - _SOUTH) / 360)
    c = Canvas(width, height, "Visitors by country and place")
    c.add(f'<rect width="{width}" height="{height}" fill="{land.SEA}"/>')
    for country in land.countries():
        if country.code == "AQ":  # below the drawn latitudes
            continue
        value = vmap.shades.visitors.get(country.code)
        tip = country.name + (f": {value:,} visitors" if value is not None else "")
        c.add(f'<path d="{_svg_path(country.geometry, width, height)}" fill="{vmap.shades.shade(country.code) or land.LAND}" '
              f'stroke="{land.BORDER}" stroke-width="0.5"><title>{esc(tip)}</title></path>')
    cells = vmap.cells.cells
    points = pd.concat([cells, vmap.edges]) if not vmap.edges.empty and cells.empty else cells
    top = max([int(v) for v in points["visitors"]] or [1]) or 1
    scale = 1.0 if width > 500 else 0.6
    for r in points.itertuples(index=False):
        x = (float(r.longitude) + 180) / 360 * width
        y = (_NORTH - float(r.latitude)) / (_NORTH - _SOUTH) * height
        colour = {"city": CITY_COLOUR, "country": COUNTRY_COLOUR}.get(r.kind, EDGE_COLOUR)
        radius = scale * (3 + 14 * math.sqrt(max(int(r.visitors), 0) / top))
        c.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour}" fill-opacity="0.55" '
              f'stroke="{colour}"><title>{esc(f"{r.place}: {int(r.visitors):,} visitors")}</title></circle>')
    return c.svg("wide" if width > 500 else "narrow")


def world_svg(vmap: VisitorMap):
    """The map drawn as SVG with its legend: countries shaded by visitors, circles for places (k-anonymous)."""
    from .charts import Chart
    from .svg import NARROW, WIDE

    legend = [(label, colour, False) for label, colour, _ in legend_items(vmap.cells, vmap.edges, vmap.shades)]
    return Chart("Visitors by country and place", _world_drawing(vmap, WIDE), _world_drawing(vmap, NARROW), legend,
                 vmap.note())
