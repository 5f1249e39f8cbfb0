"""The example force ("Mercia Vale Police") shipped inside the package, so ``lookout`` finds it from any directory.

``LOOKOUT_FORCE_CONFIG`` unset means this example: fine for a trial, the demo and the benchmarks;
``lookout init`` copies it out for a force to edit, and ``lookout config check`` warns when a deployment
that talks to real platforms still uses it.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
EXAMPLE_FORCE_CONFIG = EXAMPLES / "force.example.toml"
EXAMPLE_AREAS = EXAMPLES / "areas.example.geojson"


def force_config_path(configured: str | None) -> Path:
    """The force config to load: ``LOOKOUT_FORCE_CONFIG`` when set, else the example."""
    return Path(configured) if configured else EXAMPLE_FORCE_CONFIG
