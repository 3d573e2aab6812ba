"""gunicorn settings for production (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

systemd starts it (deploy/systemd/monitoring.service) as the monitoring user, in the release's
checkout, with /etc/monitoring/monitoring.env in its environment.
"""

import contextlib
import os
import subprocess
import sys
import time

# Only nginx on this host talks to gunicorn (deploy/nginx/monitoring.conf: upstream).
bind = "127.0.0.1:8000"
# Two workers per core is plenty: each login costs an argon2id hash of 64 MiB.
workers = 2 * (os.cpu_count() or 1)
# Uploads are read whole (encrypted on the way into the store); slow phones need time.
timeout = 120
graceful_timeout = 30
# Restart each worker now and then, spread out, so a slow leak never grows.
max_requests = 2000
max_requests_jitter = 200
# No access log here: nginx writes one without client addresses (and none for /report).
accesslog = None
# Timestamps, no e-mail addresses (monitoring.core.logs.RedactPersonalData).
logconfig_json = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logging.json")
# Trust X-Forwarded-Proto from nginx on this host only.
forwarded_allow_ips = "127.0.0.1,::1"
# The app is imported by each worker (no preload), so `systemctl reload monitoring` (HUP)
# starts workers with the new release's code.
preload_app = False
# No control socket: systemctl (signals) is how the server is managed.
control_socket_disable = True


def on_starting(server):
    """Check the configuration once, before any worker starts, in a process of its own.

    A refusal (secrets, keyring, database, translations) is one line on standard error and exit
    status 3 (deploy/systemd/monitoring.service does not restart it), instead of every worker
    failing in turn and gunicorn's own tracebacks around them.
    """
    env = {k: v for k, v in os.environ.items() if k != "FLASK_RUN_FROM_CLI"}
    done = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, check=False)
    if done.returncode:
        sys.exit(done.returncode)


# A body the app refused unread is read and thrown away, up to this size and for at most this
# long, before the connection closes (post_request below).
DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0


def post_request(worker, req, environ, resp):
    """Read what is left of a request body the app did not read before the connection closes.

    The app refuses a file that is too large by its declared size, without reading it, and
    answers with a page in the sender's language. gunicorn then closes the connection with the
    body still arriving (it drains only 64 KiB), and the kernel answers the rest with a reset;
    nginx streams uploads to the app (nothing of a worker's file on its disk), so the reset can
    reach it, or the browser, before the answer has: a worker then saw a broken connection
    instead of the page telling them what to do. Draining first lets the answer arrive. Bounded
    in size and time, each read waiting at most for what is left of the time, so that no sender
    holds a worker for long; beyond the bounds the connection closes as before.
    """
    body = getattr(req, "body", None)
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if body is None:
        return
    deadline = time.monotonic() + DRAIN_SECONDS
    drained = 0
    try:
        while drained < DRAIN_MAX_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if sock is not None:
                sock.settimeout(left)
            chunk = body.read(64 * 1024)
            if not chunk:
                return
            drained += len(chunk)
    except (OSError, ValueError):  # the sender went away or sent a malformed body: just close
        return
    finally:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(None)
