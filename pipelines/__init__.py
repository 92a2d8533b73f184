"""dlt sources for taktgeber's systems: one package per system, shared helpers in `common`."""

SOURCES = ("hubspot", "harvest", "xero")
DATASETS = {name: f"raw_{name}" for name in SOURCES}
