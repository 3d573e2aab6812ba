"""The runbook and the files it installs agree with the code (the deploy job runs them for real:
.ci/deploy-test)."""

from __future__ import annotations

import json
import re
import tomllib

from monitoring.config import DEFAULTS, ROOT, SECRET_NAMES

README = (ROOT / "README.md").read_text(encoding="utf-8")
DEPLOY = ROOT / "deploy"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_file_pins_every_production_dependency_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["prod"]}
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.M)}
    assert wanted <= pinned, f"not in requirements.lock (regenerate it, see its header): {wanted - pinned}"
    for block in re.split(r"\n(?=[A-Za-z])", lock.split("\n\n", 1)[-1]):
        if "==" in block:
            assert "--hash=sha256:" in block, block


def test_the_runbook_has_its_marked_blocks_in_order():
    names = re.findall(r"<!-- deploy-test: ([a-z-]+) -->\n```sh\n", README)
    assert names == [
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
    deploy_test = (ROOT / ".ci" / "deploy_test.py").read_text(encoding="utf-8")
    assert all(f'"{name}"' in deploy_test for name in names)


def test_the_readme_names_every_secret():
    for name in SECRET_NAMES:
        assert f"`{name.lower()}`" in README, f"the README does not name the secret {name.lower()}"
        assert f"`MONITORING_{name}`" in README, f"the README's Configuration lacks MONITORING_{name}"


def test_nginx_takes_bodies_up_to_the_case_upload_limit_and_streams_them():
    site = (DEPLOY / "nginx" / "monitoring.conf").read_text(encoding="utf-8")
    server_limit = int(re.search(r"^    client_max_body_size (\d+)m;", site, re.M).group(1))
    assert server_limit * 1024 * 1024 >= DEFAULTS["CASE_UPLOAD_MAX_BYTES"]
    assert "proxy_request_buffering off;" in site
    assert "proxy_max_temp_file_size 0;" in site
    report = re.search(r"location /report \{(.*?)\}", site, re.S).group(1)
    assert "access_log off;" in report and "client_max_body_size 0;" in report
    assert "$remote_addr" not in site


def test_the_environment_template_names_only_real_settings():
    template = (DEPLOY / "monitoring.env").read_text(encoding="utf-8")
    names = re.findall(r"^MONITORING_([A-Z0-9_]+)=", template, re.M)
    assert names and set(names) <= set(DEFAULTS), set(names) - set(DEFAULTS)
    assert "MONITORING_TRUSTED_PROXIES=1" in template


def test_the_logging_configuration_redacts_and_timestamps():
    config = json.loads((DEPLOY / "logging.json").read_text(encoding="utf-8"))
    import logging.config

    logging.config.dictConfig({**config, "root": {"level": "INFO", "handlers": []}})
    assert config["filters"]["no_personal_data"]["()"] == "monitoring.core.logs.RedactPersonalData"
    assert "%(asctime)s" in config["formatters"]["timestamped"]["format"]
    assert config["handlers"]["stderr"]["filters"] == ["no_personal_data"]


def test_the_dev_lock_file_pins_every_dependency_with_hashes():
    """make run, make test and CI install from requirements-dev.lock: it must hold every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted = {_name(r) for r in project["dependencies"] + extras["prod"] + extras["test"]}
    lock = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.M)}
    assert wanted <= pinned, f"not in requirements-dev.lock (run make upgrade): {wanted - pinned}"
    assert "monitoring @" not in lock, "the lock file must not pin the project itself"
    for block in re.split(r"\n(?=[A-Za-z])", lock.split("\n\n", 1)[-1]):
        if "==" in block:
            assert "--hash=sha256:" in block, block


def test_both_lock_files_agree_on_every_production_package():
    def pins(name: str) -> dict[str, str]:
        text = (ROOT / name).read_text(encoding="utf-8")
        return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}

    production, development = pins("requirements.lock"), pins("requirements-dev.lock")
    differing = {n: (v, development.get(n)) for n, v in production.items() if development.get(n) != v}
    assert differing == {}, "regenerate both lock files together (make upgrade)"
