"""The Arena for classifiers: black-box evasion and measurements against tabular models.

Targets (estimator files in a worker process, ONNX, HTTP endpoints, Python callables)
answer batches of feature rows; attacks and measurements become ``Attempt`` records, so
the LLM Arena's scoring, reports, comparison and gates apply unchanged. Nothing is
imported here: ``import tutela.arena.ml`` stays cheap.
"""
