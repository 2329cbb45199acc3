"""Lineage: runs, the versions they read and wrote, and the links between them.

Modules: ``sdk`` (``run()``, the ``with`` block), ``autolog`` (scikit-learn), ``recorder``
(the service functions every front uses), ``identity`` (content digests of what runs
touch), ``context`` (code and environment), ``graph`` and ``verify`` (queries),
``render`` (Mermaid, DOT), ``mlflow_import`` and ``openlineage`` (interchange).
Nothing is imported here: ``import tutela.lineage`` does no work.
"""
