"""gunicorn settings for production (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

systemd starts it (deploy/systemd/monitoring.service) as the monitoring user, in the release's
checkout, with /etc/monitoring/monitoring.env in its environment.
"""

import os
import subprocess
import sys

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
