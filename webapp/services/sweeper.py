"""A background thread per app process that ends attempts whose time has run out.

The candidate's browser may be closed at zero: the server must still end the attempt
(at its deadline) and score what was saved. Every access settles lazily too; this sweep
makes it happen without one. Several processes sweeping is harmless: each settle runs
under the attempt's write lock and is idempotent.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def sweep_once(app: Flask) -> int:
    from webapp.extensions import db
    from webapp.services.attempts import settle_due

    with app.app_context():
        return settle_due(db.session, app.config["CLOCK"](), app.config["SAVE_GRACE_SECONDS"])


def start_sweeper(app: Flask) -> threading.Thread | None:
    interval = float(app.config["EXPIRY_SWEEP_SECONDS"])
    if interval <= 0 or app.testing:
        return None
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            try:
                ended = sweep_once(app)
                if ended:
                    log.info("sweeper ended %d attempt(s) at their deadline", ended)
            except Exception:  # keep sweeping; the next pass retries
                log.exception("expiry sweep failed")

    thread = threading.Thread(target=run, name="expiry-sweeper", daemon=True)
    thread.start()
    app.extensions["sweeper_stop"] = stop
    return thread
