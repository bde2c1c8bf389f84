"""The images the compose stack needs, built on a machine with no image registry.

* ``golden-record-base/python:3.11-bookworm``: a Debian bookworm root made by
  ``debootstrap`` with Debian's Python 3.11 and pip, trusting the certificate
  authorities this machine trusts (a proxy's among them), imported into Docker;
* ``golden-record:latest``: the project's Dockerfile on that base (``BASE_IMAGE``);
* ``golden-record-postgres:15``: PostgreSQL from Debian's packages (postgres.Dockerfile).

Builds use the host's network (Docker runs here with no bridge), so ``RUN`` steps reach
Debian's mirror and PyPI; a rebuild with nothing changed takes seconds (Docker's layers).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

BASE = "golden-record-base/python:3.11-bookworm"
PROJECT_IMAGE = "golden-record:latest"
POSTGRES = "golden-record-postgres:15"
MIRROR = "http://deb.debian.org/debian"
HERE = Path(__file__).parent


class CannotBuild(Exception):
    """This machine cannot build or run the images, and why."""


def _run(*args: str, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=True, **kwargs)  # type: ignore[call-overload]


def _docker_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def check_machine() -> None:
    """Raise :class:`CannotBuild` unless Docker, docker-compose and debootstrap are here
    and the engine answers (started, with no bridge, when it is not running)."""
    if os.geteuid() != 0:
        raise CannotBuild("needs root (debootstrap, and Docker's engine)")
    missing = [
        t for t in ("docker", "dockerd", "docker-compose", "debootstrap") if not shutil.which(t)
    ]
    if missing:
        raise CannotBuild(
            f"{', '.join(missing)} not installed (Debian: apt-get install docker.io "
            "docker-compose debootstrap)"
        )
    if _docker_answers():
        return
    # No bridge and no iptables: containers use the host's network, on 127.0.0.1.
    log = open(Path(tempfile.gettempdir()) / "golden-record-dockerd.log", "ab")  # noqa: SIM115
    subprocess.Popen(
        ["dockerd", "--bridge=none", "--iptables=false"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _docker_answers():
            return
        time.sleep(1)
    raise CannotBuild(f"Docker's engine did not start (its log: {log.name})")


def _exists(image: str) -> bool:
    return (
        subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, check=False
        ).returncode
        == 0
    )


def build_base() -> None:
    """The Debian root with Python 3.11, unless it is already an image."""
    if _exists(BASE):
        return
    root = Path(tempfile.mkdtemp(prefix="golden-record-rootfs-"))
    try:
        _run(
            "debootstrap", "--variant=minbase",
            "--include=python3.11,python3-pip,python3-venv,ca-certificates",
            "bookworm", str(root), MIRROR,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        # As the official python image: pip may install, python is python3.11.
        (root / "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)
        for name in ("python", "python3"):
            link = root / "usr/local/bin" / name
            link.unlink(missing_ok=True)
            link.symlink_to("/usr/bin/python3.11")
        # The authorities this machine trusts, so builds reach PyPI through its proxy.
        shutil.copyfile(
            "/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt"
        )
        for folder in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for entry in (root / folder).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        _run(
            "docker", "import",
            "-c", 'CMD ["python3"]', "-c", "ENV LANG=C.UTF-8",
            "-c", "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            "-c", "ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt",
            "-", BASE,
            stdin=tar.stdout, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        tar.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _build(tag: str, context: Path, dockerfile: Path) -> None:
    _run(
        "docker", "build", "--network", "host", "-q",
        "--build-arg", f"BASE_IMAGE={BASE}",
        "-t", tag, "-f", str(dockerfile), str(context),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def size_mb(image: str) -> int:
    size = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return round(int(size) / 2**20)


def build_all(project: Path) -> dict[str, int]:
    """Every image, built or brought up to date; their sizes in MB."""
    build_base()
    _build(PROJECT_IMAGE, project, project / "Dockerfile")
    _build(POSTGRES, HERE, HERE / "postgres.Dockerfile")
    return {image: size_mb(image) for image in (BASE, PROJECT_IMAGE, POSTGRES)}
