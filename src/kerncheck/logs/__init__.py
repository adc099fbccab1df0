"""The kernel log engine: every input format → :class:`~kerncheck.logs.model.Record` → classified
:class:`~kerncheck.logs.model.Incident`."""
