"""Writes special.tsv: reference values of special functions from SciPy.

Run with a Python that has numpy and scipy:  python gen_special.py > special.tsv
Columns: function, n (order, or 0), x, value (repr of the f64).
"""
import numpy as np
import scipy.special as sp

rng = np.random.default_rng(7)
pos = np.concatenate([
    np.logspace(-3, 2.5, 60),
    rng.uniform(0.5, 2.5, 40),
    1.4616321449683622 + np.linspace(-0.35, 0.35, 15),
    [1.0, 2.0, 0.5, 10.0, 1e-8, 1e5],
])
neg = -np.concatenate([rng.uniform(0.05, 0.95, 10), rng.uniform(1.05, 9.5, 10)])

rows = []
for x in np.concatenate([pos, neg]):
    rows.append(("digamma", 0, x, sp.digamma(x)))
    rows.append(("lgamma", 0, x, sp.gammaln(x)))
for x in pos:
    for n in range(1, 7):
        rows.append(("polygamma", n, x, sp.polygamma(n, x)))
for x in np.concatenate([np.linspace(-6, 6, 61), [1e-10, -3e-5, 0.3]]):
    rows.append(("erf", 0, x, sp.erf(x)))
for f, n, x, v in rows:
    print(f"{f}\t{n}\t{float(x)!r}\t{float(v)!r}")
