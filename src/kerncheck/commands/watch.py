"""``kerncheck watch``: follow the kernel log live and alert, with state that survives restarts."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any, Optional

HELP = "follow the kernel log live (kmsg, journal or a file): alerts that clear, Prometheus metrics"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default="kmsg", metavar="kmsg|journal|FILE",
                   help="what to follow: /dev/kmsg (default), journald (journalctl -k -f), or a log file")
    p.add_argument("--journal-file", metavar="FILE",
                   help="with --source journal: follow this journal file (journalctl --file), not the system's")
    p.add_argument("--state", metavar="DIR", help="state directory (default: [watch] state, "
                   "else /var/lib/kerncheck/watch)")
    p.add_argument("--config", metavar="FILE", help="configuration file (default /etc/kerncheck/kerncheck.toml)")
    p.add_argument("--format", choices=("jsonl", "text", "none"),
                   help="events on stdout: JSON lines (default when stdout is not a terminal), text, or none")
    p.add_argument("--metrics-addr", metavar="HOST:PORT", help="serve Prometheus /metrics, e.g. 127.0.0.1:9777")
    p.add_argument("--alertmanager", action="append", default=[], metavar="URL",
                   help="send alerts to this Alertmanager (API v2); repeatable")
    p.add_argument("--webhook", action="append", default=[], metavar="URL",
                   help="POST events as JSON to this URL; repeatable")
    p.add_argument("--syslog", action="store_true", help="also log events to the journal / syslog")
    p.add_argument("--from-start", action="store_true",
                   help="with no saved state, read what the source already holds instead of starting at its end")
    p.add_argument("--audit-interval", type=float, metavar="SECONDS",
                   help="run the audit this often for kerncheck_check_status (0 = never; default 3600)")
    p.add_argument("--host", metavar="NAME", help="host label of alerts (default: the hostname)")


def _follower_factory(source: str, from_start: bool, journal_file: Optional[str]) -> Any:
    from kerncheck.watch import follow

    def make(position: Optional[dict[str, Any]]) -> Any:
        if source == "kmsg":
            return follow.KmsgFollower(position, from_start)
        if source == "journal":
            extra = ("--file", journal_file) if journal_file else ()
            return follow.JournalFollower(position, from_start, extra)
        return follow.FileFollower(source, position, from_start)

    return make


def run(args: argparse.Namespace) -> int:
    import os

    from kerncheck.config import ConfigError, load_config, section
    from kerncheck.watch import sinks as sinks_mod
    from kerncheck.watch.follow import SourceError
    from kerncheck.watch.metrics import WatchMetrics, parse_addr
    from kerncheck.watch.settings import from_config
    from kerncheck.watch.state import StateError
    from kerncheck.watch.watcher import Watcher, periodic_audit

    logging.basicConfig(level=logging.INFO, format="kerncheck watch: %(message)s", stream=sys.stderr)
    try:
        settings = from_config(section(load_config(args.config), "watch"))
    except ConfigError as exc:
        print(f"kerncheck watch: configuration: {exc}", file=sys.stderr)
        return 3
    if args.state:
        settings.state_dir = args.state
    if args.audit_interval is not None:
        settings.audit_interval = args.audit_interval
    bad = [u for u in args.alertmanager + args.webhook if not u.startswith(("http://", "https://"))]
    if bad:
        print(f"kerncheck watch: {bad[0]}: not an http(s) URL", file=sys.stderr)
        return 3
    settings.alertmanager += args.alertmanager
    settings.webhook += args.webhook
    settings.syslog = settings.syslog or args.syslog
    source = args.source if args.source in ("kmsg", "journal") else os.path.abspath(args.source)
    if source not in ("kmsg", "journal") and not os.path.isfile(source):
        print(f"kerncheck watch: {args.source}: not a file (use kmsg, journal or a log file)", file=sys.stderr)
        return 3

    fmt = args.format or ("text" if sys.stdout.isatty() else "jsonl")
    sinks: list[sinks_mod.Sink] = []
    if fmt != "none":
        sinks.append(sinks_mod.StdoutSink(text=fmt == "text"))
    if settings.syslog:
        sinks.append(sinks_mod.SyslogSink())
    sinks += [sinks_mod.AlertmanagerSink(url, ttl=3 * settings.repeat_interval) for url in settings.alertmanager]
    sinks += [sinks_mod.WebhookSink(url) for url in settings.webhook]

    metrics = WatchMetrics(source if source in ("kmsg", "journal") else "file")
    if args.metrics_addr:
        try:
            parse_addr(args.metrics_addr)
            metrics.serve(args.metrics_addr)
        except (ValueError, OSError) as exc:
            print(f"kerncheck watch: metrics: {exc}", file=sys.stderr)
            return 3
    try:
        factory = _follower_factory(source, args.from_start, args.journal_file)
        watcher = Watcher(factory, source, settings, sinks, metrics, host=args.host)
    except (SourceError, StateError) as exc:
        print(f"kerncheck watch: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"kerncheck watch: {exc.filename or source}: {exc.strerror or exc}", file=sys.stderr)
        return 3

    def stop(signum: int, frame: Any) -> None:
        watcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if settings.audit_interval > 0:
        periodic_audit(metrics, settings.audit_interval, watcher.stop)
    try:
        watcher.run()
    except (SourceError, StateError) as exc:
        print(f"kerncheck watch: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:  # the source or the state directory failed under us (EIO, disk full …)
        print(f"kerncheck watch: {exc.filename or source}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    return 0
