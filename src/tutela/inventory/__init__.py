"""Discovery: an offline inventory of models, datasets, frameworks and AI services."""
