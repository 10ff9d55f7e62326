"""Profiles travel to worker processes (process pools, Dask): a built-in one by its
name, so a worker gets the very object its module built; a house one by value."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace

from igpreflight.profiles import BUILTIN, THREADS


def test_a_builtin_profile_travels_by_name_into_a_fresh_process():
    data = pickle.dumps(THREADS)
    assert b"builtin_profile" in data and len(data) < 200  # the name, not the table
    code = (
        "import pickle, sys; from igpreflight.profiles import THREADS; "
        "p = pickle.loads(bytes.fromhex(sys.argv[1])); print(p is THREADS, p.origin)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, data.hex()], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["True", "built-in"], out.stderr[-2000:]
    assert all(pickle.loads(pickle.dumps(p)) is p for p in BUILTIN.values())


def test_a_house_profile_travels_by_value():
    house = replace(THREADS, name="team", extends="threads", origin="pyproject.toml")
    data = pickle.dumps(house)
    assert b"builtin_profile" not in data
    back = pickle.loads(data)
    assert back == house and back is not house and back.images == house.images
