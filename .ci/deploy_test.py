"""Inside .ci/deploy-test's namespaces: a Debian server as the runbook leaves it, then a browser.

Runs as root in private mount and network namespaces (see .ci/deploy-test). Reads WORK (a
scratch folder with the release repository and the wheelhouse), ROOT (this checkout) and
PG_BIN from the environment. Fails (exit 1) at the first step that does not work.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

WORK = Path(os.environ["WORK"])
ROOT = Path(os.environ["ROOT"])
PG_BIN = Path(os.environ["PG_BIN"])
SITE = "monitoring.test"
BASE = f"https://{SITE}"
BLOCK = re.compile(r"<!-- deploy-test: ([a-z-]+) -->\n```sh\n(.*?)\n```", re.S)
ORDER = [
    "settings",
    "packages",
    "install",
    "database",
    "first-admin",
    "serve",
    "check",
    "upgrade",
    "backup",
    "restore-drill",
]
SETTINGS = {
    "SITE_NAME": SITE,
    "RELEASE_SOURCE": str(WORK / "release"),
    "RELEASE": "deploy-test-1",
}
timings: list[tuple[str, float]] = []


def step(message: str) -> None:
    print(f"\n==> deploy-test: {message}", flush=True)


def sh(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, **kwargs)  # type: ignore[call-overload]


# --- the machine ---------------------------------------------------------------------------------


def mount_tmpfs(path: str, mode: str = "0755") -> None:
    Path(path).mkdir(parents=True, exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", f"mode={mode}", "tmpfs", path)


def bind_copy(path: str) -> None:
    """Replace ``path`` by a private copy of itself."""
    copy = WORK / "copies" / path.strip("/").replace("/", "_")
    copy.parent.mkdir(parents=True, exist_ok=True)
    if Path(path).is_dir():
        shutil.copytree(path, copy, symlinks=True)
    else:
        shutil.copy2(path, copy)
    sh("mount", "--bind", str(copy), path)


def prepare_machine() -> None:
    step("loopback network, private /run, /srv, /etc/monitoring, /var/lib/monitoring, nginx, units")
    sh("ip", "link", "set", "lo", "up")
    mount_tmpfs("/run")
    for path in ("/srv", "/var/log/nginx", "/etc/systemd/system", "/usr/local/sbin"):
        mount_tmpfs(path)
    for path in ("/etc/monitoring", "/var/lib/monitoring", "/var/backups/monitoring"):
        mount_tmpfs(path, "0700")
    bind_copy("/etc/nginx")
    bind_copy("/etc/hosts")
    with open("/etc/hosts", "a", encoding="utf-8") as hosts:
        hosts.write(f"\n127.0.0.1 {SITE}\n::1 {SITE}\n")
    # /usr/local/bin receives /usr/local/bin/monitoring: an overlay keeps the real one untouched.
    upper, work = WORK / "usr-local-bin", WORK / "usr-local-bin.work"
    upper.mkdir()
    work.mkdir()
    sh(
        "mount",
        "-t",
        "overlay",
        "overlay",
        "-o",
        f"lowerdir=/usr/local/bin,upperdir={upper},workdir={work}",
        "/usr/local/bin",
    )
    shutil.copy(ROOT / ".ci" / "systemctl", "/usr/local/sbin/systemctl")
    os.chmod("/usr/local/sbin/systemctl", 0o755)
    Path("/run/lock").mkdir(mode=0o1777, exist_ok=True)


def start_postgresql() -> None:
    """The system's PostgreSQL, as Debian runs it: port 5432, socket in /run/postgresql."""
    step("starting PostgreSQL on 127.0.0.1:5432 (socket /run/postgresql)")
    data = WORK / "pgdata"
    data.mkdir(mode=0o700)
    shutil.chown(data, "postgres", "postgres")
    run_dir = Path("/run/postgresql")
    run_dir.mkdir(mode=0o2775)
    shutil.chown(run_dir, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    sh(
        *as_pg,
        str(PG_BIN / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-locale",
        "--auth-local=peer",
        "--auth-host=scram-sha-256",
        stdout=subprocess.DEVNULL,
    )
    options = (
        "-c listen_addresses=localhost -c port=5432 -c unix_socket_directories=/run/postgresql -c fsync=off"
    )
    sh(
        *as_pg,
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(data / "server.log"),
        "-w",
        "start",
        "-o",
        options,
        stdout=subprocess.DEVNULL,
    )


def stop_postgresql() -> None:
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(WORK / "pgdata"),
            "-m",
            "fast",
            "stop",
        ],
        check=False,
        stdout=subprocess.DEVNULL,
    )


def make_certificate() -> Path:
    """A certificate authority of the test and a certificate for SITE signed by it."""
    step(f"a certificate for {SITE} (a test CA)")
    tls = WORK / "tls"
    tls.mkdir()
    sh(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=deploy-test CA",
        "-keyout",
        str(tls / "ca.key"),
        "-out",
        str(tls / "ca.pem"),
        stderr=subprocess.DEVNULL,
    )
    sh(
        "openssl",
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        f"/CN={SITE}",
        "-keyout",
        str(tls / "site.key"),
        "-out",
        str(tls / "site.csr"),
        stderr=subprocess.DEVNULL,
    )
    (tls / "ext.cnf").write_text(f"subjectAltName=DNS:{SITE}\n", encoding="utf-8")
    sh(
        "openssl",
        "x509",
        "-req",
        "-in",
        str(tls / "site.csr"),
        "-CA",
        str(tls / "ca.pem"),
        "-CAkey",
        str(tls / "ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(tls / "ext.cnf"),
        "-out",
        str(tls / "site.crt"),
        stderr=subprocess.DEVNULL,
    )
    # Where the runbook says a certificate goes (section 6).
    target = Path("/etc/nginx/tls")
    target.mkdir(mode=0o700)
    shutil.copy(tls / "site.crt", target / "monitoring.crt")
    shutil.copy(tls / "site.key", target / "monitoring.key")
    os.chmod(target / "monitoring.key", 0o600)
    return tls / "ca.pem"


# --- the runbook ---------------------------------------------------------------------------------


def read_blocks() -> dict[str, str]:
    readme = (WORK / "release" / "README.md").read_text(encoding="utf-8")
    blocks = {name: body for name, body in BLOCK.findall(readme)}
    found = [name for name, _ in BLOCK.findall(readme)]
    if found != ORDER:
        sys.exit(f"deploy-test: the README's marked blocks are {found}, expected {ORDER}")
    names = set(re.findall(r"^([A-Z_]+)=", blocks["settings"], re.M))
    if names != set(SETTINGS):
        sys.exit(f"deploy-test: the settings block sets {sorted(names)}, expected {sorted(SETTINGS)}")
    return blocks


def run_block(name: str, body: str, env: dict[str, str], **settings: str) -> str:
    """Run one block of the README as written, after the job's own settings; return its output."""
    step(f"README block '{name}'")
    values = {**SETTINGS, **settings}
    script = "".join(f"{k}={v}\n" for k, v in values.items()) + body + "\n"
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd="/root",
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    timings.append((name, time.monotonic() - started))
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode:
        sys.exit(f"deploy-test: README block '{name}' failed with exit status {done.returncode}")
    return done.stdout


def runbook_env(ca: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        # The namespace has no network: pip takes the locked packages from the wheelhouse.
        "PIP_FIND_LINKS": str(WORK / "wheels"),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # curl trusts the test's certificate authority, as a real one is trusted.
        "CURL_CA_BUNDLE": str(ca),
        "DEBIAN_FRONTEND": "noninteractive",
    }


def assert_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        sys.exit(f"deploy-test: {path} may be read by others (mode {mode:03o})")


def main() -> int:
    started = time.monotonic()
    prepare_machine()
    start_postgresql()
    try:
        ca = make_certificate()
        step("starting nginx, as its Debian package does")
        env = runbook_env(ca)
        subprocess.run(["systemctl", "start", "nginx"], env=env, check=True)
        blocks = read_blocks()
        for name in ORDER[1:7]:
            output = run_block(name, blocks[name], env)
            if name == "first-admin":
                match = re.search(r"^temporary password[^:\n]*: (\S+)$", output, re.M)
                if not match:
                    sys.exit("deploy-test: the first administrator's temporary password was not printed")
                admin_password = match.group(1)
        for path in (
            "/etc/monitoring/secrets.json",
            "/etc/monitoring/keyring.json",
            "/etc/monitoring/monitoring.env",
        ):
            assert_private(Path(path))

        step("Chromium over HTTPS through nginx (section 7)")
        sys.path.insert(0, str(ROOT / ".ci"))
        from deploy_drive import drive

        drive_started = time.monotonic()
        drive(BASE, admin_password=admin_password, work=WORK)
        timings.append(("browser", time.monotonic() - drive_started))

        subprocess.run(["systemctl", "start", "monitoring-jobs.service"], env=env, check=True)
        run_block("upgrade", blocks["upgrade"], env, RELEASE="deploy-test-2")
        run_block("backup", blocks["backup"], env)
        for path in Path("/var/backups/monitoring").iterdir():
            assert_private(path)
        output = run_block("restore-drill", blocks["restore-drill"], env)
        if "1 stored files checked, 0 failed; 0 unknown files" not in output:
            sys.exit("deploy-test: the restored copy should hold the worker's one evidence file")

        step("no client address and nothing of /report in nginx's logs")
        access = Path("/var/log/nginx/monitoring.access.log").read_text(encoding="utf-8")
        worker_pages = re.search(r'"[A-Z]+ /(report|static/report\.css)', access)
        if worker_pages or re.search(r"127\.0\.0\.1|::1", access):
            sys.exit("deploy-test: nginx logged a client address or a worker page:\n" + access[-2000:])
        if "/login" not in access:
            sys.exit("deploy-test: nginx's access log is missing the staff requests")
    finally:
        for unit in ("monitoring.service", "nginx"):
            subprocess.run(
                ["systemctl", "stop", unit], check=False, env={"PATH": "/usr/local/sbin:/usr/bin:/bin"}
            )
        stop_postgresql()
    step("timings")
    for name, seconds in timings:
        print(f"  {name:14s} {seconds:6.1f} s")
    print(f"  {'total':14s} {time.monotonic() - started:6.1f} s")
    print("\ndeploy-test: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
