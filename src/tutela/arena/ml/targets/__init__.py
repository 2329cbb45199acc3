"""Classifier targets: estimator files (in a worker), ONNX, HTTP endpoints, callables."""
