"""Layers, enforced: a domain imports another domain only through that domain's public face.

import-linter (``lint-imports`` in ./dev test, contracts in ``.importlinter``) checks the layer order and
that no domain has an import cycle among its modules. This test adds the rule import-linter has no
contract type for: across domains, only ``precinct.<domain>.service`` (or the package itself) is
imported, never a domain's models, views, flows or private helpers. It reads the same import graph
(grimp, the library import-linter is built on).
"""

from __future__ import annotations

import grimp

# The application's roots mount every domain's views and CLI; that is their job.
ROOTS = {"precinct.app", "precinct.cli", "precinct.domains", "precinct.__main__"}
INFRASTRUCTURE = {"core", "migrations"}  # everyone may use core; migrations are not imported by domains


def _domain(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "precinct":
        return None
    if len(parts) == 2 and f"precinct.{parts[1]}" in ROOTS:
        return None
    return parts[1]


def _is_public_face(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 2 or (len(parts) == 3 and parts[2] == "service")


def cross_domain_violations(graph: grimp.ImportGraph) -> list[str]:
    bad = []
    for importer in sorted(graph.modules):
        src = _domain(importer)
        if src is None or importer in ROOTS:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            dst = _domain(imported)
            if dst is None or dst == src or dst in INFRASTRUCTURE:
                continue
            if dst in {"config", "errors"} or imported in {"precinct.config", "precinct.errors"}:
                continue
            if not _is_public_face(imported):
                bad.append(f"{importer} imports {imported} (use precinct.{dst}.service)")
    return bad


def test_domains_use_each_other_only_through_their_service() -> None:
    graph = grimp.build_graph("precinct", cache_dir=None)
    bad = cross_domain_violations(graph)
    assert not bad, "\n".join(bad)


def test_the_check_can_fail() -> None:
    graph = grimp.ImportGraph()
    for m in ("precinct.anpr.fanout", "precinct.command.models", "precinct.command.service"):
        graph.add_module(m)
    graph.add_import(importer="precinct.anpr.fanout", imported="precinct.command.models")
    graph.add_import(importer="precinct.anpr.fanout", imported="precinct.command.service")
    assert cross_domain_violations(graph) == [
        "precinct.anpr.fanout imports precinct.command.models (use precinct.command.service)"]
