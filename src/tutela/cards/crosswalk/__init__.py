"""The compliance crosswalk catalogue: one YAML data file per framework."""
