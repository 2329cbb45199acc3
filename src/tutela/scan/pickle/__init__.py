"""Static pickle analysis: emulate the unpickler symbolically, judge every import and call.

Nothing is ever unpickled or imported. Container scanners (zip, torch, numpy, joblib)
wrap their members in a ``ByteSource`` and call ``analyze_pickle``.
"""

from __future__ import annotations

from tutela.scan.pickle.engine import analyze_pickle
from tutela.scan.pickle.policy import Judgement, Policy
from tutela.scan.pickle.report import PickleResult
from tutela.scan.source import ByteSource

__all__ = ["ByteSource", "Judgement", "PickleResult", "Policy", "analyze_pickle"]
