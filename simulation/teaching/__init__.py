"""The teaching page: a live county in the browser (`python run.py demo`).

Modules: `lesson` (the page's Mesa model: one or two counties stepping together), `recorder`
(monthly history for charts and household stories), `layout` and `status` (the map),
`charts`, `story`, `monitors`, `knobs`, `info` and `experiments` (what the page shows, as
plain data), `widgets` and `components` (Solara/Vue), `app` (the page, around Mesa's
SolaraViz) and `server` (serving it offline on 127.0.0.1).
"""
