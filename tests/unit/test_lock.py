"""requirements.lock pins a version inside each of pyproject's ranges, for every dependency and the dev extra."""

from __future__ import annotations

import tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bot import PROJECT_ROOT


def locked() -> dict[str, list[tuple[Version, str | None]]]:
    """Package -> its pinned versions, each with the environment marker it applies under."""
    pins: dict[str, list[tuple[Version, str | None]]] = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"not pinned: {line}"
        pins.setdefault(canonicalize_name(req.name), []).append((Version(spec.version), str(req.marker) if req.marker else None))
    return pins


def test_the_lock_pins_every_range_of_pyproject():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = locked()
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock: refresh the lock (see README)"
        assert any(m is None or Marker(m).evaluate() for _, m in pins[name]), f"no pin of {req.name} applies to this Python"
        for version, _ in pins[name]:
            assert version in req.specifier, f"requirements.lock pins {req.name}=={version}, outside {req.specifier}: refresh the lock"
        # Every 0.x dependency has an upper bound: a minor release of a 0.x package may break its API.
        if any(v.major == 0 for v, _ in pins[name]):
            assert any(s.operator in ("<", "<=", "~=", "==") for s in req.specifier), f"{req.name} needs an upper bound"
