#!/usr/bin/env python3
"""check_cycles.py: no two object files of src/pg or of src/core may depend
on each other, directly or through others.

A file depends on another when it uses (nm: U) a symbol the other defines.
The strongly connected components of that graph with more than one file
are the cycles; each is printed and the exit status is 1.  Run from the
repository root after a build (the .o files must exist).
"""
import glob
import os
import subprocess
import sys

DIRS = ["src/pg", "src/core"]


def symbols(obj):
    """(defined, undefined) global symbols of one object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "U":
            undefined.add(f[1])
        elif len(f) == 3 and f[1] in "TDBRVWG":
            defined.add(f[2])
    return defined, undefined


def sccs(nodes, edges):
    """Tarjan's algorithm, iterative (no recursion limit to worry about)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    pushed = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def main():
    bad = 0
    for d in DIRS:
        objs = sorted(glob.glob(os.path.join(d, "*.o")))
        if not objs:
            print(f"{d}: no object files (build first)", file=sys.stderr)
            return 2
        syms = {o: symbols(o) for o in objs}
        edges = {o: set() for o in objs}
        for o in objs:
            for p in objs:
                if p != o and syms[o][1] & syms[p][0]:
                    edges[o].add(p)
        for comp in sccs(objs, edges):
            if len(comp) < 2:
                continue
            bad += 1
            print(f"file cycle in {d}: " + " ".join(os.path.basename(c) for c in comp))
            for o in comp:
                for p in comp:
                    if p in edges[o]:
                        used = sorted(syms[o][1] & syms[p][0])
                        more = f" (+{len(used) - 4})" if len(used) > 4 else ""
                        print(f"  {os.path.basename(o)} -> {os.path.basename(p)}: "
                              + ", ".join(used[:4]) + more)
    if bad:
        return 1
    print("no file cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
