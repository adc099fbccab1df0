"""``kerncheck watch``: follow the kernel log live, turn it into alerts that clear, and export metrics.

The pieces, one module each: :mod:`.follow` (``/dev/kmsg``, journald, a log file), :mod:`.state` (the
atomic cursor + open conditions), :mod:`.settings` (the ``[watch]`` table), :mod:`.tracker` (thresholds,
folding, conditions that clear), :mod:`.outbox` (the durable event queue), :mod:`.sinks` (stdout, syslog,
Alertmanager, webhook), :mod:`.metrics` and :mod:`.textfile` (Prometheus), :mod:`.watcher` (the loop).
"""
