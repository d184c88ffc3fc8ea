"""Application services: one function per pipeline step, combining connectors, store, mappings and rules.

Plain Python, no Prefect: the flows in `flows/` wrap these in tasks, one task per page or batch.
"""
