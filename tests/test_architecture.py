"""The layers hold (docs/architecture.md): import-linter's contracts in pyproject.toml pass, and no
import hides inside a function except where a module is loaded late on purpose."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Functions that import late on purpose: the app factory and blueprint/CLI registration (nothing
# is built at import time), optional back ends chosen by configuration, and heavy libraries used by
# one command. None of them hides a cycle: the contracts below are checked with them included.
LATE_ON_PURPOSE = {
    ("service/__init__.py", "create_app"), ("service/api/__init__.py", "init_app"),
    ("service/portal/__init__.py", "init_app"), ("service/simulator/__init__.py", "init_app"),
    ("service/cli.py", "*"), ("service/content_cli.py", "*"), ("service/messaging/__init__.py", "sender_for"),
    ("service/content/checks.py", "reading_grade"), ("service/content/checks.py", "dale_chall"), ("service/content/report.py", "spanish_grade"),
    ("service/content/extract.py", "main"), ("service/portal/i18n.py", "extract"),
    ("service/portal/i18n.py", "__html__"), ("service/portal/enrollments.py", "_category_label"),
    ("service/spool.py", "_database_unavailable"),
}


def test_import_contracts_are_kept():
    lint = pathlib.Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 kept, 0 broken" in result.stdout


def test_the_engine_contract_names_every_other_module():
    """"The engine imports nothing of the service but itself" only holds if its forbidden list
    names every other module and package: a new one is added there, or this fails."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [engine] = [c for c in contracts if c.get("source_modules") == ["service.engine"]]
    others = {f"service.{p.stem}" for p in (ROOT / "service").iterdir()
              if p.name != "engine" and not p.name.startswith("__")
              and (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert set(engine["forbidden_modules"]) == others


def test_no_import_hides_in_a_function():
    found = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
                if inner and (rel, node.name) not in LATE_ON_PURPOSE and (rel, "*") not in LATE_ON_PURPOSE:
                    found.append(f"{rel}:{inner[0].lineno} in {node.name}()")
    assert not found, found
