"""Background work that must run once per cluster, not once per worker process: scheduled key
rotation, the purge of expired rows and the back-channel logout sender's retries.

Every worker of every node runs a `Scheduler` thread; each job is guarded by a lease row
(`storage.leases`) whose expiry is the job's interval, so of all the schedulers exactly one runs a job
per interval and none runs it inside a request."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..extensions import db
from ..storage import leases
from . import backchannel, clock, housekeeping, keys, mail

log = logging.getLogger(__name__)
TICK = 10  # seconds between looks at the leases
MAIL_INTERVAL = 5  # seconds: at most this long (plus a tick) between a committed event and its mail


@dataclass(frozen=True)
class Job:
    name: str
    interval: int
    run: Callable


def _rotate(rt) -> None:
    if keys.rotate_if_due(rt.settings):
        rt.keyring.reload()


def _purge(rt) -> None:
    counts = housekeeping.purge(rt.settings.purge_batch_size)
    if any(counts.values()):
        log.info("purged expired rows: %s", counts)


def _backchannel(rt) -> None:
    backchannel.deliver_due(rt.settings, rt.keyring)


def _mail(rt) -> None:
    mail.deliver_due(rt.settings)


def jobs(settings) -> list[Job]:
    """The once-per-cluster jobs these settings ask for, each with its interval in seconds."""
    out = []
    if settings.signing_key_rotation_days > 0:
        out.append(Job("keys.rotate", settings.key_ring_refresh_seconds, _rotate))
    if settings.purge_interval_seconds > 0:
        out.append(Job("purge", settings.purge_interval_seconds, _purge))
    out.append(Job("backchannel.retry", min(settings.backchannel_logout_retry_delay, 60), _backchannel))
    out.append(Job("mail.send", MAIL_INTERVAL, _mail))
    return out


def run_due(rt, holder: str) -> list[str]:
    """Run every job whose lease this holder can take now; returns the names of the jobs it ran."""
    ran = []
    for job in jobs(rt.settings):
        now = clock.now()
        try:
            if not leases.claim(job.name, holder, now, now + job.interval):
                continue
            job.run(rt)
            ran.append(job.name)
        except Exception:  # a failed run must not stop the others; the next interval retries
            db.session.rollback()
            log.exception("background job %s failed", job.name)
    return ran


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Scheduler(threading.Thread):
    """Looks at the leases every `tick` seconds in a daemon thread with its own app context, off the
    request path. `stop()` ends it; `ran` is set after each look."""

    def __init__(self, app, tick: float = TICK):
        super().__init__(name="idp-scheduler", daemon=True)
        self.app, self.tick = app, tick
        self.stopping = threading.Event()
        self.ran = threading.Event()

    def run(self) -> None:
        from .runtime import current

        holder = holder_name()
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    run_due(current(), holder)
                except Exception:  # e.g. the database is down: try again next tick
                    log.warning("background jobs skipped: %s", "database unavailable", exc_info=True)
                finally:
                    db.session.remove()
            self.ran.set()
            self.stopping.wait(self.tick)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
