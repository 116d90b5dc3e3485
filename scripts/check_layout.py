#!/usr/bin/python3
"""Check the source layout (ARCHITECTURE.md): no source file over 500 lines outside tests/, and
no call cycle between files (file A calls into file B and B, directly or through others, calls
back into A).

    /usr/bin/python3 scripts/check_layout.py SOURCE_DIR BUILD_DIR

Calls are read from the compiled objects with `nm`: A -> B when an undefined symbol of A's
object is defined by B's. Exit 0 when both rules hold, 1 with one line per violation."""
import os
import subprocess
import sys
from collections import defaultdict

LIMIT = 500
MODULES = ("kernels", "datasets", "models", "bench")


def long_files(src):
    bad = []
    for top in MODULES:
        for d, _, files in os.walk(os.path.join(src, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    p = os.path.join(d, f)
                    with open(p, encoding="utf-8", errors="replace") as fh:
                        n = sum(1 for _ in fh)
                    if n > LIMIT:
                        bad.append(f"{os.path.relpath(p, src)}: {n} lines (limit {LIMIT})")
    return bad


def objects(build):
    out = []
    for top in MODULES:
        for d, _, files in os.walk(os.path.join(build, top)):
            out += [os.path.join(d, f) for f in files if f.endswith(".c.o")]
    return out


def source_of(obj, build):
    # build/bench/CMakeFiles/ub_bench.dir/engine/run.c.o -> bench/engine/run.c
    rel = os.path.relpath(obj, build).split(os.sep)
    i = rel.index("CMakeFiles")
    return "/".join(rel[:i] + rel[i + 2:])[:-2]


def cycles(build):
    defined, needs = {}, defaultdict(set)
    for o in objects(build):
        src = source_of(o, build)
        r = subprocess.run(["nm", "-P", o], capture_output=True, text=True, check=True)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) < 2:
                continue
            sym, kind = f[0], f[1]
            if kind == "U":
                needs[src].add(sym)
            elif kind in "TDBR":
                defined.setdefault(sym, src)
    graph = defaultdict(set)
    for a, syms in needs.items():
        for s in syms:
            b = defined.get(s)
            if b and b != a:
                graph[a].add(b)
    # Tarjan's strongly connected components: a component of more than one file is a cycle
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(set(graph) | set(needs)):
        if v not in index:
            visit(v)
    return [f"call cycle between {', '.join(c)}" for c in comps], len(needs)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, build = sys.argv[1], sys.argv[2]
    problems = long_files(src)
    cyc, n = cycles(build)
    problems += cyc
    for p in problems:
        print("FAIL", p)
    print(f"{n} object files; {len(problems)} layout problems")
    return 1 if problems or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
