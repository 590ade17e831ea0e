"""Run settings: pydantic models of the config, scenario and insurance tables; TOML
loading with ``extends`` and scenario overlays; errors that name file, key and line."""
