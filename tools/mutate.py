"""Mutation testing for siamese/: do the fast tests fail when the code breaks?

Each mutant changes one thing in one module (an operator, a constant, a return value, a dropped
statement), is written into a throwaway copy of the repository (never the working tree), and that
module's test files run there (``pytest -x -q -m "not browser"``, one process per mutant, with a
timeout). A mutant is *killed* when the tests fail, *survived* when they pass, *timeout* when they
hang. Survivors are listed with file:line and the mutation: each is either a behaviour no test
notices or an equivalent mutant (same behaviour, e.g. a bound that never matters).

Usage (from the repository root, with the project's virtualenv; SIAMESE_DATA_DIR set so the
real-data tests run, otherwise they are deselected):

    python tools/mutate.py [MODULE ...] [--max-mutants 80] [--seed 0] [--timeout S]
                           [--ops OP,OP] [--list] [--output report.txt] [--repo DIR] [--keep]

MODULE is a path under siamese/ without .py, e.g. gallery/symbols or matching (default:
DEFAULT_MODULES, those that exist; the training modules are too slow). Each runs its own
tests/test_<last part>.py, or the files TESTS names for it. At most --max-mutants per module are
run, sampled with --seed (0: all): the default run takes about 20 minutes on 2 busy cores.

Mutation operators (--ops; default all but "string"):
    compare   < <= > >= == != in / not in, is / is not swapped
    arith     + -, * /, // *, & |, and / or, += -= swapped; unary - ~ not dropped; max / min swapped
    const     int n -> n + 1, float x -> 2x (0.0 -> 1.0), True <-> False
    return    return x -> return None
    drop      raise ... / a bare call statement (conn.execute(...), list.append(...)) -> pass
    loop      break <-> continue
    string    a non-docstring string constant -> "XX" + s (off by default: mostly message text)
Lines ending in ``# pragma: no mutate`` are not mutated. f-strings are never mutated.
"""
from __future__ import annotations

import argparse
import ast
import copy
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_MODULES = ["gallery/sets", "gallery/symbols", "gallery/roster", "gallery/names", "gallery/exchange",
                   "data/preprocess", "matching", "search/index", "fewshot/evaluation", "fewshot/episodes",
                   "gallery/defaults", "distance"]
"""Paths under siamese/ without ``.py``, e.g. ``gallery/symbols`` or ``matching``."""
TESTS = {  # module -> its fast test files, where they are not tests/test_<last part of its path>.py
    "gallery/defaults": ["tests/test_references.py", "tests/test_matching.py"],
    "data/datasets": ["tests/test_data.py"],
    "lecture/training": ["tests/test_compare.py"],
    "lecture/settings": ["tests/test_compare.py"],
    "lecture/saved_run": ["tests/test_compare.py"],
    "lecture/job": ["tests/test_compare.py", "tests/test_classroom.py"],
    "gallery/sets": ["tests/test_gallery.py", "tests/test_exchange.py", "tests/test_words.py"],
    "gallery/symbols": ["tests/test_gallery.py", "tests/test_classroom.py"],
    "gallery/roster": ["tests/test_gallery.py", "tests/test_classroom.py", "tests/test_experiment.py"],
    "gallery/names": ["tests/test_gallery.py", "tests/test_classroom.py"],
    "search/openset": ["tests/test_openset.py", "tests/test_matching.py"],
    "measure/report": ["tests/test_report.py"],
    "measure/unseen_digits": ["tests/test_report.py"],
    "compare": ["tests/test_sketch_pair.py"],
    "measure/histograms": ["tests/test_distance_stats.py"],
    "measure/calibration": ["tests/test_openset.py"],
}
ALL_OPS = ["compare", "arith", "const", "return", "drop", "loop", "string"]
SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
        ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
        ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.And: ast.Or, ast.Or: ast.And}
SYM = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
       ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
       ast.Div: "/", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|", ast.And: "and", ast.Or: "or",
       ast.USub: "-", ast.Invert: "~", ast.Not: "not"}


def _short(node, n=48):
    text = ast.unparse(node)
    return text if len(text) <= n else text[:n - 3] + "..."


def _default_name(arguments, value):
    """``name=value`` when ``value`` is a default in ``arguments``, else None."""
    if not isinstance(arguments, ast.arguments):
        return None
    pos = arguments.posonlyargs + arguments.args
    pairs = list(zip(pos[len(pos) - len(arguments.defaults):], arguments.defaults))
    pairs += list(zip(arguments.kwonlyargs, arguments.kw_defaults))
    return next((f"{a.arg}={ast.unparse(d)}" for a, d in pairs if d is value), None)


class Mutator(ast.NodeTransformer):
    """Walks a module in a fixed order, numbering every possible mutation. With ``target`` set it
    applies mutation number ``target`` (and only that one); otherwise it just records them."""

    def __init__(self, ops, skip_lines, target=-1):
        self.ops, self.skip, self.target = set(ops), skip_lines, target
        self.found: list[tuple[int, str]] = []  # (line, description) per mutation number
        self.parents: list[ast.AST] = []

    def _point(self, op, node, desc):
        if op not in self.ops or getattr(node, "lineno", 0) in self.skip:
            return False
        if op in ("compare", "arith", "const", "string"):  # say where on the line
            where = self.parents[-1] if isinstance(node, ast.Constant) and self.parents else node
            desc += f" in `{_default_name(where, node) or _short(where)}`"
        self.found.append((node.lineno, desc))
        return len(self.found) - 1 == self.target

    def visit(self, node):
        if isinstance(node, ast.Constant):
            return super().visit(node)
        self.parents.append(node)
        try:
            return super().visit(node)
        finally:
            self.parents.pop()

    def visit_JoinedStr(self, node):
        return node  # f-strings: message text

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node  # docstring
        if isinstance(node.value, ast.Call) and self._point("drop", node, f"drop `{_short(node, 60)}`"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Raise(self, node):
        if self._point("drop", node, f"drop `{_short(node, 60)}`"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Return(self, node):
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            if self._point("return", node, f"`return {_short(node.value)}` -> `return None`"):
                return ast.copy_location(ast.Return(value=None), node)
        return self.generic_visit(node)

    def visit_Break(self, node):
        return ast.copy_location(ast.Continue(), node) if self._point("loop", node, "break -> continue") else node

    def visit_Continue(self, node):
        return ast.copy_location(ast.Break(), node) if self._point("loop", node, "continue -> break") else node

    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            new = SWAP.get(type(op))
            if new and self._point("compare", node, f"{SYM[type(op)]} -> {SYM[new]}"):
                node.ops[i] = new()
        return self.generic_visit(node)

    def _swap_op(self, node):
        new = SWAP.get(type(node.op))
        if new and self._point("arith", node, f"{SYM[type(node.op)]} -> {SYM[new]}"):
            node.op = new()
        return self.generic_visit(node)

    visit_BinOp = visit_BoolOp = _swap_op

    def visit_arg(self, node):
        return node  # annotations are never evaluated (from __future__ import annotations)

    def visit_FunctionDef(self, node):
        returns, node.returns = node.returns, None
        self.generic_visit(node)
        node.returns = returns
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node):
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_AugAssign(self, node):
        new = SWAP.get(type(node.op))
        if new and self._point("arith", node, f"{SYM[type(node.op)]}= -> {SYM[new]}="):
            node.op = new()
        return self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if type(node.op) in (ast.USub, ast.Invert, ast.Not) and not isinstance(node.operand, ast.Constant):
            if self._point("arith", node, f"drop unary `{SYM[type(node.op)]}`"):
                return self.visit(node.operand)
        return self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
            other = "min" if node.func.id == "max" else "max"
            if self._point("arith", node, f"{node.func.id}( -> {other}("):
                node.func = ast.copy_location(ast.Name(id=other, ctx=ast.Load()), node.func)
        return self.generic_visit(node)

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            new, desc = not v, f"{v} -> {not v}"
        elif isinstance(v, int):
            new, desc = v + 1, f"{v} -> {v + 1}"
        elif isinstance(v, float):
            new = 1.0 if v == 0 else 2 * v
            desc = f"{v!r} -> {new!r}"
        elif isinstance(v, str):
            new, desc = "XX" + v, f"string {v[:30]!r} -> 'XX...'"
            return ast.copy_location(ast.Constant(new), node) if self._point("string", node, desc) else node
        else:
            return node
        return ast.copy_location(ast.Constant(new), node) if self._point("const", node, desc) else node


def mutants(source: str, ops):
    """``(unmutated source as unparsed, [(line, description, mutated source)])``, one mutant per
    distinct mutation of ``source`` (all unparsed by ``ast``: comments and layout are lost)."""
    tree = ast.parse(source)
    skip = {i for i, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# pragma: no mutate")}
    walker = Mutator(ops, skip)
    walker.visit(copy.deepcopy(tree))
    base, seen, out = ast.unparse(tree), set(), []
    for k, (line, desc) in enumerate(walker.found):
        m = Mutator(ops, skip, target=k)
        text = ast.unparse(ast.fix_missing_locations(m.visit(copy.deepcopy(tree))))
        if text != base and text not in seen:
            seen.add(text)
            out.append((line, desc, text))
    return base, out


def run_tests(work: Path, tests, marker, timeout, python):
    """Run the tests in the copy: ``("passed" | "failed" | "timeout" | "error", seconds, output)``."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(work))
    cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", marker,
           f"--basetemp={work / '.mutate-tmp'}", *tests]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", time.monotonic() - start, b""
    took = time.monotonic() - start
    status = {0: "passed", 1: "failed", 2: "failed", 3: "failed"}.get(proc.returncode, "error")
    return status, took, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("modules", nargs="*", help=f"siamese modules (default: those of {DEFAULT_MODULES} that exist)")
    ap.add_argument("--max-mutants", type=int, default=80, help="sample at most this many per module (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="random seed of the sample")
    ap.add_argument("--timeout", type=float, help="seconds per mutant (default: 3x the clean run + 20)")
    ap.add_argument("--ops", default=",".join(o for o in ALL_OPS if o != "string"),
                    help="comma-separated mutation operators, or 'all' (default: %(default)s)")
    ap.add_argument("--list", action="store_true", help="list the sampled mutants and run nothing")
    ap.add_argument("--output", help="also write the report to this file")
    ap.add_argument("--repo", default=".", help="repository to copy (default: current directory)")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs pytest")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway copy")
    a = ap.parse_args(argv)
    ops = ALL_OPS if a.ops == "all" else a.ops.split(",")
    if bad := set(ops) - set(ALL_OPS):
        ap.error(f"unknown --ops {sorted(bad)}")
    repo = Path(a.repo).resolve()
    marker = "not browser" if os.environ.get("SIAMESE_DATA_DIR") else "not browser and not realdata"
    plan = {}
    for mod in a.modules or DEFAULT_MODULES:
        src_path = repo / "siamese" / f"{mod}.py"
        if not src_path.is_file():
            if not a.modules:
                continue  # an older tree without this module
            ap.error(f"{src_path} does not exist")
        tests = [t for t in TESTS.get(mod, [f"tests/test_{Path(mod).name}.py"]) if (repo / t).is_file()]
        if not tests:
            ap.error(f"no test file for siamese/{mod}.py (tests/test_<name>.py or TESTS)")
        base, ms = mutants(src_path.read_text(), ops)
        total = len(ms)
        if a.max_mutants and len(ms) > a.max_mutants:
            ms = sorted(random.Random(f"{a.seed}:{mod}").sample(ms, a.max_mutants), key=lambda m: m[0])
        plan[mod] = (tests, base, ms, total)
    if a.list:
        for mod, (tests, _, ms, total) in plan.items():
            print(f"siamese/{mod}.py: {len(ms)} of {total} mutants -> {' '.join(tests)}")
            for line, desc, _ in ms:
                print(f"  siamese/{mod}.py:{line}: {desc}")
        return 0

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="mutate-"))
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", "artifacts", "runs")
    shutil.copytree(repo, work / "repo", ignore=ignore)
    work = work / "repo"
    lines = [f"Mutation testing of {repo} (seed {a.seed}, at most {a.max_mutants or 'all'} per module, "
             f"ops {','.join(ops)}, -m {marker!r})"]
    results, survivors = [], []
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    try:
        for mod, (tests, base, ms, total) in plan.items():
            target = work / "siamese" / f"{mod}.py"
            original = target.read_text()
            target.write_text(base)  # the unparsed, unmutated module must pass first
            status, clean, out = run_tests(work, tests, marker, a.timeout or 600, a.python)
            if status != "passed":
                target.write_text(original)
                log(out.decode(errors="replace")[-3000:])
                lines.append(f"siamese/{mod}.py: SKIPPED, its tests fail without any mutation ({status})")
                continue
            timeout = a.timeout or 3 * clean + 20
            log(f"siamese/{mod}.py: {len(ms)} of {total} mutants, clean run {clean:.1f}s, timeout {timeout:.0f}s")
            count = {"killed": 0, "survived": 0, "timeout": 0, "error": 0}
            t0 = time.monotonic()
            for n, (line, desc, text) in enumerate(ms, 1):
                target.write_text(text)
                status, took, _ = run_tests(work, tests, marker, timeout, a.python)
                verdict = {"passed": "survived", "failed": "killed"}.get(status, status)
                count[verdict] += 1
                if verdict != "killed":
                    survivors.append((mod, line, desc, verdict, original.splitlines()[line - 1].strip()))
                log(f"  [{n}/{len(ms)}] {verdict:8} {took:5.1f}s siamese/{mod}.py:{line}: {desc}")
            target.write_text(original)
            results.append((mod, count, len(ms), total, time.monotonic() - t0))
    finally:
        if not a.keep:
            shutil.rmtree(work.parent, ignore_errors=True)
    lines.append(f"{'module':12} {'killed':>7} {'survived':>8} {'timeout':>7} {'error':>5} {'score':>6}  sampled/all  time")
    for mod, c, n, total, took in results:
        score = (c["killed"] + c["timeout"]) / n if n else 1.0
        lines.append(f"{mod:12} {c['killed']:7} {c['survived']:8} {c['timeout']:7} {c['error']:5} "
                     f"{100 * score:5.0f}%  {n:4}/{total:<6} {took:5.0f}s")
    lines += ["Tests run:"] + [f"  {mod}: {' '.join(plan[mod][0])}" for mod, *_ in results]
    lines.append(f"\nSurvivors and timeouts ({len(survivors)}):")
    lines += [f"  siamese/{m}.py:{line}: [{v}] {desc}\n      {src}" for m, line, desc, v, src in survivors]
    lines.append(f"\nTotal time {time.monotonic() - started:.0f}s")
    report = "\n".join(lines)
    print(report)
    if a.output:
        Path(a.output).write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
