"""Reports: papermill-run notebooks turned into HTML pages (``run.render_report``), with the pieces the
notebooks call: ``context.open_report`` (period, site, queries), ``html`` (escaped tables, KPI tiles, page
header and definitions), ``charts`` (matplotlib PNGs), ``maps`` (folium, k-anonymous, offline assets)."""
