"""The floor plan stays true: every import, at module level or inside a function, runs down.

Layers, lowest first (ARCHITECTURE.md): core (governance's models, audit, roles, env, ...),
inventory, remediation, privacy, reports, site (settings, urls, celery, wsgi/asgi, setup_demo).
A module may import its own layer and those below it, never one above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("governance", "inventory", "reports")
LAYERS = ("core", "inventory", "remediation", "privacy", "reports", "site")
SITE_MODULES = (
    "governance",  # the package itself: it loads the Celery app, as Celery's Django guide does
    "governance.settings",
    "governance.urls",
    "governance.celery",
    "governance.wsgi",
    "governance.asgi",
    "governance.management.commands.setup_demo",
)


def layer_of(module: str) -> str | None:
    """Return the layer a dotted module name belongs to, or None outside the project."""
    if module in SITE_MODULES or module.startswith(tuple(f"{m}." for m in SITE_MODULES[1:])):
        return "site"
    for prefix, layer in (
        ("reports", "reports"),
        ("governance.privacy", "privacy"),
        ("governance.remediation", "remediation"),
        ("inventory", "inventory"),
        ("governance", "core"),
    ):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            keep = len(base) - node.level + (1 if is_package else 0)
            prefix = ".".join(base[:keep])
            target = f"{prefix}.{node.module}" if node.module else prefix
        else:
            target = node.module or ""
        # "from governance.privacy import checks" imports the module governance.privacy.checks;
        # "from inventory.models import Copy" imports from inventory.models.
        submodules = [f"{target}.{alias.name}" for alias in node.names]
        modules = [name for name in submodules if _is_module(name)]
        return modules if len(modules) == len(submodules) else [target, *modules]
    return []


def upward_imports() -> list[str]:
    """Return every import in the project that runs from a lower layer to a higher one."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_name(path)
            mine = LAYERS.index(layer_of(module) or "site")
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                for target in _imported(node, module, path.name == "__init__.py"):
                    theirs = layer_of(target)
                    if theirs is not None and LAYERS.index(theirs) > mine:
                        found.append(
                            f"{path.relative_to(REPO)}:{node.lineno} ({LAYERS[mine]}) imports "
                            f"{target} ({theirs})"
                        )
                        break
    return found


def test_no_module_imports_a_higher_layer() -> None:
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("governance.audit", "core"),
        ("governance.encryption", "core"),
        ("governance.settings", "site"),
        ("governance.management.commands.setup_demo", "site"),
        ("governance.remediation.services.tasks", "remediation"),
        ("governance.privacy.services.cases", "privacy"),
        ("inventory.services.scan", "inventory"),
        ("reports.services.build", "reports"),
        ("django.db", None),
    ],
)
def test_modules_fall_in_the_layers_the_plan_names(module: str, layer: str | None) -> None:
    assert layer_of(module) == layer


def test_the_check_catches_an_import_inside_a_function(tmp_path: Path) -> None:
    source = "def f():\n    from governance.privacy.services.cases import x\n"
    tree = ast.parse(source)
    targets = [t for node in ast.walk(tree) for t in _imported(node, "inventory.services.x", False)]
    assert "governance.privacy.services.cases" in targets
    assert layer_of(targets[0]) == "privacy"
