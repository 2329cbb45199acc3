"""Static scanning of model artifacts. Nothing scanned is ever imported, unpickled or run."""
