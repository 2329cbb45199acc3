"""Policies as code: rules in CEL over facts, evaluated by gates.

Submodules: ``cel`` (compile and evaluate expressions), ``schema`` (the policy file
model), ``loader`` (read and validate files), ``evaluate`` (rules to results) and
``gate`` (decide a promotion and record the decision). Nothing is imported here, so
importing one submodule (the approvals fact provider, say) stays cheap.
"""
