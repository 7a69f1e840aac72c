"""`[server]` and the secret that signs the console's cookies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dunning.web.app import load_secret
from tests.conftest import Project



def test_the_secret_is_made_once_owner_only_and_kept(tmp_path: Path):
    path = tmp_path / "server.secret"
    first = load_secret(path)
    assert len(first) >= 48 and os.stat(path).st_mode & 0o077 == 0
    assert load_secret(path) == first


def test_a_secret_others_can_read_or_a_short_one_is_refused(tmp_path: Path):
    path = tmp_path / "server.secret"
    load_secret(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError, match="others can read the server's secret"):
        load_secret(path)
    path.write_text("short\n", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="too short"):
        load_secret(path)


def test_a_bad_server_setting_is_one_line_naming_the_key(project: Project):
    project.write_config(extra="\n[server]\nport = 70000\n")
    result = project("serve", expect=1)
    assert "server.port" in result.output and "1 to 65535" in result.output
    assert len(result.output.strip().splitlines()) == 1
    project.write_config(extra='\n[server]\nhots = "0.0.0.0"\n')
    assert "unknown key 'server.hots'; did you mean 'host'?" in project("serve", expect=1).output


def test_serve_refuses_a_secret_others_can_read_in_one_line(project: Project):
    secret = project.folder / "server.secret"
    secret.write_text("x" * 64 + "\n", encoding="utf-8")
    secret.chmod(0o644)
    result = project("serve", expect=1)
    assert result.output == f"Error: {secret}: others can read the server's secret; chmod 600 it\n"


def test_serve_on_a_port_in_use_is_one_line_and_exit_1(project: Project):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = project("serve", "--port", str(port), expect=1)
    assert result.output.startswith(f"Error: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert len(result.output.strip().splitlines()) == 1


def test_serve_says_where_the_console_and_the_debtors_page_answer(project: Project):
    import subprocess
    import sys

    from tests.web.test_browser import _free_port

    project.write_config(extra='\n[portal]\nbase_url = "https://pay.example/collect"\n')
    port = _free_port()
    dunning = Path(sys.executable).with_name("dunning")
    process = subprocess.Popen([str(dunning), "--config", str(project.config), "serve", "--port", str(port)],
                               env={**os.environ, "DUNNING_LOAD_PLUGINS": ""}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        first, second = process.stderr.readline(), process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert first == f"dunning console on http://127.0.0.1:{port}/\n"
    assert second == f"debtors' page under http://127.0.0.1:{port}/collect/\n"
