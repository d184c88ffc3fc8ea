"""Pure domain rules: identifiers, the WVP calendar, later eligibility and reconciliation.

No I/O, no clock, no Prefect: every date comes in as a parameter.
"""
