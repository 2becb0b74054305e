"""``precinct city build``, ``precinct route`` and ``current_city``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from precinct.city import RoadGraph, service
from precinct.config import Settings
from precinct.errors import BadInput

from .conftest import helsinki_pbf


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    service.clear_cache()


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from precinct.cli import main

    monkeypatch.setattr(sys, "argv", ["precinct", *argv])
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def test_current_city_defaults_to_cached_synthetic(settings: Settings) -> None:
    g = service.current_city(settings)
    assert g.meta["source"] == "synthetic" and g.meta["seed"] == 1
    assert service.graph_path(settings).exists()
    assert service.current_city(settings) is g  # process-wide cache
    service.clear_cache()
    again = service.current_city(settings)
    assert again is not g and again.n_edges == g.n_edges  # reloaded from the cache file


def test_build_synthetic_then_skip_then_route(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = ["city", "build", "--synthetic", "--size-km", "3", "--seed", "2", "--format", "json"]
    rc, out, _ = run(args, monkeypatch, capsys)
    assert rc == 0 and json.loads(out)["rebuilt"] is True
    rc, out, _ = run(args, monkeypatch, capsys)
    assert rc == 0 and json.loads(out)["rebuilt"] is False
    g = service.current_city(settings)
    assert g.meta["size_km"] == 3 and g.meta["seed"] == 2
    la0, lo0, la1, lo1 = g.bbox
    a = f"{la0 + 0.2 * (la1 - la0)},{lo0 + 0.2 * (lo1 - lo0)}"
    b = f"{la0 + 0.8 * (la1 - la0)},{lo0 + 0.7 * (lo1 - lo0)}"
    rc, out, _ = run(["route", "--from", a, "--to", b, "--format", "json"], monkeypatch, capsys)
    assert rc == 0
    body = json.loads(out)
    assert set(body) == {"length_m", "time_s", "path"}
    assert body["length_m"] > 0 and body["time_s"] > 0 and len(body["path"]) >= 2
    rc, out2, _ = run(["route", "--from", a, "--to", b, "--metric", "length"], monkeypatch, capsys)
    assert json.loads(out2)["length_m"] <= body["length_m"] + 1e-3
    rc, out3, _ = run(["city", "geocode", "人民路与泰州大道交叉口", "--format", "json"], monkeypatch,
                      capsys)
    assert rc == 0 and json.loads(out3)[0]["score"] == 100
    rc, out4, _ = run(["city", "info", "--format", "json"], monkeypatch, capsys)
    assert rc == 0 and json.loads(out4)["edges"] == g.n_edges


@pytest.mark.parametrize("argv", [
    ["route", "--from", "32.49", "--to", "32.49,119.92"],
    ["route", "--from", "32.49,119.92", "--to", "10,10"],
    ["route", "--from", "32.49,119.92", "--to", "32.5,119.93", "--metric", "fast"],
    ["city", "build"],
    ["city", "build", "--synthetic", "--hours", "8,25"],
    ["city", "build", "--osm", "/no/such/file.osm.pbf"],
])
def test_bad_input_exit_code(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    rc, _, err = run(argv, monkeypatch, capsys)
    assert rc == BadInput.exit_code
    assert "bad_input" in err


def test_build_from_osm_and_skip_rebuild(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    pbf = helsinki_pbf()
    rc, out, _ = run(["city", "build", "--osm", str(pbf), "--format", "json"], monkeypatch, capsys)
    assert rc == 0 and json.loads(out)["rebuilt"] is True
    rc, out, _ = run(["city", "build", "--osm", str(pbf), "--format", "json"], monkeypatch, capsys)
    assert rc == 0 and json.loads(out)["rebuilt"] is False
    assert service.current_city(settings).meta["source"] == "osm"


def test_broken_osm_files_are_bad_input(tmp_path: Path) -> None:
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"\x00\x00\x00\x0dthis is not a pbf file at all")
    with pytest.raises(BadInput):
        RoadGraph.from_osm(junk)
    with pytest.raises(BadInput):
        RoadGraph.from_osm(tmp_path)


def test_cli_module_imports_no_heavy_modules() -> None:
    """`precinct --help` imports every domain's CLI: the city's must not load the engine."""
    code = ("import sys, precinct.city.cli;"
            "print(sorted(m for m in ('numba', 'scipy', 'osmium', 'pyrosm', 'pandas', 'shapely',"
            " 'precinct.city.road') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_package_names_still_resolve() -> None:
    """The package's public names load on first use."""
    import precinct.city as city

    assert city.RoadGraph.__name__ == "RoadGraph" and city.Snaps.__name__ == "Snaps"
    with pytest.raises(AttributeError):
        _ = city.NoSuchName  # type: ignore[attr-defined]
