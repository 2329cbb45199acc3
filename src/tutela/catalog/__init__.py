"""Service functions over the store: assets, versions, evidence. Fronts call these."""
