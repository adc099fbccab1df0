"""Is the host out of rotation? The configured drain checks, each of which must say so positively.

Two kinds, configured in ``[crash_test]`` (at least one is required; every configured one must pass):

* ``drain_command`` — an argv list (no shell) run with a timeout (``drain_timeout``, default 30 s):
  **exit status 0 means drained**; any other status, a timeout or a missing command means not drained.
* ``health_url`` — the http(s) URL the load balancer health-checks (for example the service's
  ``/health``, which answers 503 while the host is being drained). **Drained means the URL answered with
  one of ``drained_status``** (default ``[503]``) within the timeout. A 2xx means the load balancer still
  sends traffic; a redirect is not followed (the balancer would not follow it either); a connection
  error or timeout is unknown, and unknown is not drained.
"""

from __future__ import annotations

import shlex
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError

DEFAULT_TIMEOUT = 30.0
DEFAULT_DRAINED_STATUS = (503,)


class DrainConfigError(ValueError):
    """The drain settings in the configuration are invalid."""


@dataclass
class DrainConfig:
    command: Optional[list[str]] = None
    url: Optional[str] = None
    drained_status: tuple[int, ...] = DEFAULT_DRAINED_STATUS
    timeout: float = DEFAULT_TIMEOUT

    @property
    def configured(self) -> bool:
        return bool(self.command or self.url)


@dataclass
class DrainResult:
    drained: bool
    problems: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def parse_drain_config(section: dict[str, Any]) -> DrainConfig:
    """``drain_command`` (argv list, or a string split like a shell would — but never run by one),
    ``health_url``, ``drained_status``, ``drain_timeout``."""
    cfg = DrainConfig()
    command = section.get("drain_command")
    if command is not None:
        if isinstance(command, str):
            try:
                command = shlex.split(command)
            except ValueError as exc:
                raise DrainConfigError(f"drain_command {command!r}: {exc}") from None
        if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
            raise DrainConfigError("drain_command must be a non-empty list of strings (an argv; no shell)")
        cfg.command = command
    url = section.get("health_url")
    if url is not None:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise DrainConfigError(f"health_url must be an http:// or https:// URL, not {url!r}")
        cfg.url = url
    status = section.get("drained_status", list(DEFAULT_DRAINED_STATUS))
    if isinstance(status, int) and not isinstance(status, bool):
        status = [status]
    if (not isinstance(status, list) or not status
            or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in status)):
        raise DrainConfigError(f"drained_status must be a list of HTTP status codes, not {status!r}")
    if any(200 <= s < 300 for s in status):
        raise DrainConfigError("drained_status must not contain a 2xx: a 2xx is what the load balancer "
                               "treats as healthy, i.e. in rotation")
    cfg.drained_status = tuple(status)
    timeout = section.get("drain_timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise DrainConfigError(f"drain_timeout must be a number of seconds between 0 and 600, not {timeout!r}")
    cfg.timeout = float(timeout)
    return cfg


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_status(url: str, timeout: float) -> int:
    """The status the URL answers with (no redirects followed); raises ``OSError`` when it does not answer."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": "kerncheck-crash-test"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:  # 4xx/5xx and unfollowed 3xx arrive as errors
        return int(exc.code)


def check_drain(host: Host, cfg: DrainConfig) -> DrainResult:
    result = DrainResult(drained=False)
    if not cfg.configured:
        result.problems.append("no drain check is configured ([crash_test] drain_command and/or health_url): "
                               "kerncheck cannot tell whether the load balancer still sends traffic here")
        return result
    if cfg.command:
        shown = shlex.join(cfg.command)
        try:
            out = host.run(cfg.command, timeout=cfg.timeout)
        except CommandUnavailable as exc:
            result.problems.append(f"drain command `{shown}` cannot run: {exc.reason}")
        except CommandTimeout:
            result.problems.append(f"drain command `{shown}` did not finish within {cfg.timeout:g}s")
        except HostError as exc:
            result.problems.append(f"drain command `{shown}` failed to start: {exc}")
        else:
            detail = (out.stderr.strip() or out.stdout.strip()).splitlines()
            tail = f": {detail[-1][:200]}" if detail else ""
            if out.returncode == 0:
                result.evidence.append(f"drain command `{shown}` exited 0 (drained)")
            else:
                result.problems.append(f"drain command `{shown}` exited {out.returncode}, so the host is not "
                                       f"drained{tail}")
    if cfg.url:
        wanted = "/".join(str(s) for s in cfg.drained_status)
        try:
            status = http_status(cfg.url, cfg.timeout)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            result.problems.append(f"health URL {cfg.url} did not answer ({reason}): drain state unknown")
        else:
            if status in cfg.drained_status:
                result.evidence.append(f"health URL {cfg.url} answers {status} (drained)")
            elif 200 <= status < 300:
                result.problems.append(f"health URL {cfg.url} answers {status}: the load balancer still sees "
                                       f"this host as healthy, in rotation (drained means {wanted})")
            else:
                result.problems.append(f"health URL {cfg.url} answers {status}, not the drained status {wanted}")
    result.drained = not result.problems
    return result
