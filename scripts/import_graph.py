"""Import graph of the pgi_tf package from its source (ast only, nothing imported).

Prints: cycles (strongly connected components > 1 file), library modules that import
pgi_tf.train (outside pgi_tf/train itself), modules over LIMIT lines. Exit 1 if any.
Usage: python scripts/import_graph.py [repo_root] [--limit N]
"""
import ast, os, sys

root = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "."
limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 550
pkg = os.path.join(root, "pgi_tf")
mods = {}
for d, _, fs in os.walk(pkg):
    for f in fs:
        if f.endswith(".py"):
            p = os.path.join(d, f)
            name = os.path.relpath(p, root)[:-3].replace(os.sep, ".")
            if name.endswith(".__init__"):
                name = name[:-9]
            mods[name] = p


def resolve(name):
    while name and name not in mods:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name


edges = {m: set() for m in mods}
for m, p in mods.items():
    tree = ast.parse(open(p).read())
    is_pkg = p.endswith("__init__.py")
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = m.split(".")
                parts = parts if is_pkg else parts[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [base + "." + a.name for a in node.names] + [base]
        for t in targets:
            if t.startswith("pgi_tf"):
                r = resolve(t)
                if r and r != m and not (r == "pgi_tf" and t != "pgi_tf"):
                    edges[m].add(r)

# Tarjan SCC
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
for v in mods:
    if v not in index: sc(v)

# The training-speed benchmark may time a trainer's step; nothing else in the library may import train/.
lib_to_train = sorted({m for m in mods for t in edges[m] if t.startswith("pgi_tf.train")
                       and not m.startswith("pgi_tf.train") and "benchmark" not in m})
big = sorted((sum(1 for _ in open(p)), m) for m, p in mods.items())
big = [(n, m) for n, m in big if n > limit]
for c in sccs: print("cycle:", " <-> ".join(c))
for e in lib_to_train: print("library module imports pgi_tf.train:", e)
for n, m in big: print(f"over {limit} lines: {m} ({n})")
print(f"modules {len(mods)}, cycles {len(sccs)} ({sum(map(len, sccs))} files), library->train {len(lib_to_train)}, over {limit} lines {len(big)}")
sys.exit(1 if (sccs or lib_to_train or big) else 0)
