#!/usr/bin/python3
"""Compare two unlearnbench results.h5 files dataset by dataset.

    /usr/bin/python3 scripts/compare_results.py OLD/results.h5 NEW/results.h5 [--ignore-attr version]

Every dataset and attribute of either file must exist in both with the same dtype, shape and
values (NaN equals NaN). Metric tables are compared by metric name, not position: a metric that
only one file has is listed (an added metric is expected there), and every metric both have must
hold identical values. Exit 0 when nothing differs but the listed new metrics, 1 otherwise,
2 when a file cannot be read."""
import argparse
import sys

import h5py
import numpy as np


def walk(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def same(a, b):
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


def attrs_equal(x, y, ignore, where, problems):
    for k in sorted(set(x.attrs) | set(y.attrs)):
        if k in ignore:
            continue
        if k not in x.attrs or k not in y.attrs:
            problems.append(f"{where}: attribute {k} only in one file")
        elif not same(np.asarray(x.attrs[k]), np.asarray(y.attrs[k])):
            problems.append(f"{where}: attribute {k} differs")


def names(ds):
    return [s.decode() if isinstance(s, bytes) else s for s in ds[...]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--ignore-attr", action="append", default=["version"])
    a = ap.parse_args()
    for path in (a.old, a.new):
        try:
            h5py.File(path, "r").close()
        except OSError as err:
            print(f"compare_results: cannot read {path}: {err}", file=sys.stderr)
            return 2
    problems, added, checked = [], set(), 0
    with h5py.File(a.old, "r") as fo, h5py.File(a.new, "r") as fn:
        mo, mn = names(fo["metric_names"]), names(fn["metric_names"])
        common = [m for m in mo if m in mn]
        io, inn = [mo.index(m) for m in common], [mn.index(m) for m in common]
        added = set(mn) ^ set(mo)
        wo, wn = walk(fo), walk(fn)
        attrs_equal(fo, fn, a.ignore_attr, "/", problems)
        for name in sorted(set(wo) | set(wn)):
            if name not in wo or name not in wn:
                problems.append(f"/{name}: only in {'new' if name in wn else 'old'}")
                continue
            x, y = wo[name], wn[name]
            attrs_equal(x, y, a.ignore_attr, "/" + name, problems)
            if isinstance(x, h5py.Group) or isinstance(y, h5py.Group):
                if type(x) is not type(y):
                    problems.append(f"/{name}: group in one file, dataset in the other")
                continue
            leaf = name.rsplit("/", 1)[-1]
            if leaf in ("metric_names", "metric_docs"):
                dx = dict(zip(mo, names(x)))
                dy = dict(zip(mn, names(y)))
                bad = [m for m in common if dx[m] != dy[m]]
                if bad:
                    problems.append(f"/{name}: differs for {', '.join(bad)}")
            elif leaf == "metrics":
                vx, vy = x[...], y[...]
                vx, vy = vx[..., io], vy[..., inn]
                if not same(vx, vy):
                    bad = [common[i] for i in range(len(common))
                           if not same(vx[..., i], vy[..., i])]
                    problems.append(f"/{name}: values differ for {', '.join(bad)}")
            elif x.dtype != y.dtype or not same(x[...], y[...]):
                problems.append(f"/{name}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}, values differ")
            checked += 1
    for p in problems:
        print("DIFF", p)
    print(f"{checked} datasets compared, {len(common)} metrics in both; "
          f"metrics in one file only: {', '.join(sorted(added)) or 'none'}; "
          f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
