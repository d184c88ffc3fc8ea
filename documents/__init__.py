"""Documents vangnet produces for people: the re-integratieverslag (HTML and PDF), the management report.

Renderers only: they take a structure assembled by `rules`/`services` and return text or bytes; the
services write the files.
"""
