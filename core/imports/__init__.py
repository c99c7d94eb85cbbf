"""One preview → confirm → atomic apply flow for every import.

An importer (``importers.Importer``) declares its columns, who may use it and what a row does —
``check`` (read and judge every row, write nothing) and ``apply`` (write the checked rows). The
flow (``flow``) owns the rest, the same for every list: the stored file, the run's status, the
per-row outcomes, progress while a long file runs (``progress``), the audit event, the
problem-row download (``exports``), the pages (``views``) and the API (``api``).
"""
