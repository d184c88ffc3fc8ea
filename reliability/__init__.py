"""Crash consistency: kill the worker with SIGKILL at chosen points, restart it, check nothing was lost or
doubled (`python -m reliability`; issue 10). See harness.py for a trial, invariants.py for the checks."""
