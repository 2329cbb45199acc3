"""The Arena: adversarial evaluation of chat endpoints (and, later, classic ML models)."""
