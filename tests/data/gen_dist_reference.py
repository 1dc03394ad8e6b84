#!/usr/bin/env python3
"""Reference values for tests/distributions.rs, from scipy.

Run from the repository root with python3, numpy and scipy installed:

    python3 tests/data/gen_dist_reference.py > tests/data/dist_reference.json

Each library function gets a list of cases {"args": [...], "value": v}
(arguments and values are numbers or nested lists; "attrs" holds the
call's integer attributes when it has some). Densities are summed over
their elements, as the library's `_lpdf` / `_lpmf` functions are.

Where scipy.stats itself loses accuracy (Student's t for huge degrees of
freedom, the negative binomial for huge dispersion, logits far from 0), the
reference is written with scipy.special's functions (betaln, log_expit, …)
instead, and checked against scipy.stats where both are accurate.
"""

import itertools
import json
import math
import sys
from decimal import Decimal, getcontext

import numpy as np
from scipy import integrate, special, stats

OUT = {}


def conv(a):
    """A number or nested list, infinities spelled "inf" and "-inf" (JSON has no infinities)."""
    a = np.asarray(a, dtype=float).tolist()

    def fix(v):
        if isinstance(v, list):
            return [fix(w) for w in v]
        return v if np.isfinite(v) else ("inf" if v > 0 else "-inf")

    return fix(a)


def add(name, args, value, attrs=None):

    value = np.asarray(value, dtype=float)
    assert np.all(~np.isnan(value)), (name, args, value)
    case = {"args": [conv(a) for a in args], "value": conv(value)}
    if attrs:
        case["attrs"] = attrs
    OUT.setdefault(name, []).append(case)


def grid(name, f, *axes):
    for point in itertools.product(*axes):
        add(name, point, f(*point))


def close(a, b, rtol=1e-13):
    assert np.allclose(a, b, rtol=rtol, atol=1e-300), (a, b)


# ---- Helpers (elementwise) ------------------------------------------------

xs_wide = [-800.0, -40.0, -5.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 3.0, 36.0, 800.0]
grid("log1p_exp", lambda x: np.logaddexp(0.0, x), xs_wide)
grid("log_inv_logit", special.log_expit, xs_wide)
grid("log1m_inv_logit", lambda x: special.log_expit(-x), xs_wide)
grid("log1m", lambda x: np.log1p(-x), [-1e10, -3.0, -1e-12, 0.0, 1e-12, 0.3, 0.999, 1.0 - 2.0**-40])
grid("square", lambda x: x * x, [-3.5, 0.0, 1e-200, 1e150])
# log(1 - e^x) from scipy's weighted logsumexp where the two terms are far
# enough apart for it to be accurate, and log1p(-exp) where e^x is tiny.
for x in [-1e-10, -1e-3, -0.5, -0.69, -0.7, -2.0, -20.0]:
    add("log1m_exp", [x], special.logsumexp([0.0, x], b=[1.0, -1.0]) if x < -1e-3 else np.log(-np.expm1(x)))
for x in [-50.0, -700.0]:
    add("log1m_exp", [x], -np.exp(x) - np.exp(2 * x) / 2)
for a, b in [(0.0, -1.0), (5.0, 4.0), (-300.0, -301.5), (700.0, 0.0), (2.0, -np.inf), (1e3, 999.0)]:
    add("log_diff_exp", [a, b], special.logsumexp([a, b], b=[1.0, -1.0]))
for a, b in [(0.0, 0.0), (1.0, -2.0), (-800.0, -801.0), (700.0, 710.0), (-np.inf, 3.0), (1e-20, -40.0)]:
    add("log_sum_exp", [a, b], np.logaddexp(a, b))
for t, a, b in [(0.3, -1.0, -2.0), (1e-6, 0.0, -700.0), (0.999, -800.0, -790.0), (0.5, 3.0, 3.0)]:
    add("log_mix", [t, a, b], np.logaddexp(np.log(t) + a, np.log1p(-t) + b))
for a, b in [(0.0, 0.0), (0.0, 2.0), (3.0, 1e-300), (2.5, 7.0), (-1.0, 0.5)]:
    add("multiply_log", [a, b], special.xlogy(a, b))


def lbeta_ref(a, b):
    """scipy's betaln, except for a whole number next to a much larger one,
    where betaln loses digits (7.5e-11 at (37, 1e7)) and the exact sum
    log B(n, y) = log Γ(n) - Σ_{i<n} log(y + i) is used instead."""
    x, y = min(a, b), max(a, b)
    if x == int(x) and 1 <= x <= 1000 and y >= 1e3 * x:
        return math.lgamma(x) - math.fsum(math.log(y + i) for i in range(int(x)))
    if x >= 1e3 and y >= 1e6:
        return lbeta_stirling_50_digits(x, y)
    return special.betaln(a, b)


def lbeta_stirling_50_digits(x, y):
    """log B(x, y) for x, y ≥ 1000 by Stirling's series in 50-digit decimal
    arithmetic (betaln is off by 3e-11 relative at (1e7, 1e12))."""
    getcontext().prec = 50
    x, y = Decimal(x), Decimal(y)
    two_pi = 2 * Decimal("3.14159265358979323846264338327950288419716939937510")

    def lgamma(z):
        rem = 1 / (12 * z) - 1 / (360 * z**3) + 1 / (1260 * z**5)
        return (z - Decimal("0.5")) * z.ln() - z + two_pi.ln() / 2 + rem

    return float(lgamma(x) + lgamma(y) - lgamma(x + y))


ab = [1e-8, 0.1, 1.0, 2.5, 9.99, 10.0, 37.0, 1e3, 1e7, 1e12]
grid("lbeta", lbeta_ref, ab, ab)
for n, k in [(0, 0), (1, 0), (5, 2), (10, 3), (50, 25), (1000, 500), (1e4, 3), (1e4, 9997), (7.5, 2.5), (120, 0)]:
    add("lchoose", [n, k], np.log(special.binom(n, k)))
xs_phi = [-38.0, -37.0, -30.0, -20.0, -10.0, -5.0, -3.0, -2.83, -2.82, -2.0, -1.0, -0.1, 0.0, 0.2, 1.0, 2.0,
          2.82, 2.83, 3.0, 5.0, 8.0, 10.0, 20.0, 38.0]
grid("Phi", special.ndtr, xs_phi)
grid("log_Phi", special.log_ndtr, xs_phi)
grid("log1m_Phi", lambda x: special.log_ndtr(-x), xs_phi)

# ---- Helpers over axes ----------------------------------------------------

rng = np.random.default_rng(20261205)
m = rng.normal(size=(3, 4)) * 30.0
m[1, 2] = 750.0
for axes in [[0], [1], [0, 1]]:
    add("log_sum_exp", [m], special.logsumexp(m, axis=tuple(axes)), {"axes": axes})
    add("log_softmax", [m], m - special.logsumexp(m, axis=tuple(axes), keepdims=True), {"axes": axes})
add("log_sum_exp", [m], special.logsumexp(m))
add("log_softmax", [m], m - special.logsumexp(m, keepdims=True))

# ---- Continuous densities -------------------------------------------------

grid("normal_lpdf", stats.norm.logpdf,
     [-1e3, -40.0, -5.0, -1.0, 0.0, 0.3, 2.0, 10.0, 1e5], [0.0, -3.0, 1e4], [1e-8, 0.5, 1.0, 30.0, 1e6])
grid("normal_lcdf", stats.norm.logcdf, xs_phi, [0.0, 1.5], [1.0, 2.0])
grid("normal_lccdf", stats.norm.logsf, xs_phi, [0.0, 1.5], [1.0, 2.0])
grid("lognormal_lpdf", lambda x, mu, s: stats.lognorm.logpdf(x, s, scale=np.exp(mu)),
     [1e-10, 0.01, 0.5, 1.0, 3.0, 100.0, 1e8], [-2.0, 0.0, 5.0], [0.1, 1.0, 10.0])


def student_t(x, nu, mu, s):
    z = (x - mu) / s
    lgamma_ratio = 0.5 * np.log(np.pi) - special.betaln(0.5, nu / 2)
    return lgamma_ratio - 0.5 * np.log(nu * np.pi) - np.log(s) - (nu + 1) / 2 * np.log1p(z * z / nu)


for x, nu in itertools.product([-3.0, 0.2, 40.0], [0.5, 3.0, 30.0]):
    close(student_t(x, nu, 0.5, 2.0), stats.t.logpdf(x, nu, 0.5, 2.0))
grid("student_t_lpdf", student_t,
     [-1e6, -50.0, -2.0, 0.0, 0.7, 5.0, 1e3], [0.5, 1.0, 3.0, 30.0, 1e4, 1e9], [0.0, -2.0], [0.3, 5.0])
grid("cauchy_lpdf", stats.cauchy.logpdf, [-1e8, -3.0, 0.0, 0.5, 40.0], [0.0, 2.0], [1e-3, 1.0, 1e4])
grid("half_normal_lpdf", lambda x, s: stats.halfnorm.logpdf(x, scale=s), [0.0, 1e-5, 0.7, 3.0, 50.0, -1.0],
     [1e-3, 1.0, 25.0])
grid("half_cauchy_lpdf", lambda x, s: stats.halfcauchy.logpdf(x, scale=s), [0.0, 1e-5, 0.7, 3.0, 1e7, -1.0],
     [1e-3, 1.0, 25.0])
grid("exponential_lpdf", lambda x, b: stats.expon.logpdf(x, scale=1.0 / b), [0.0, 1e-9, 0.5, 4.0, 1e4, -2.0],
     [1e-4, 1.0, 300.0])
grid("gamma_lpdf", lambda x, a, b: stats.gamma.logpdf(x, a, scale=1.0 / b),
     [1e-8, 0.1, 1.0, 7.0, 300.0, -1.0], [0.1, 1.0, 2.5, 50.0, 1e3], [1e-3, 1.0, 20.0])
grid("inv_gamma_lpdf", lambda x, a, b: stats.invgamma.logpdf(x, a, scale=b),
     [1e-3, 0.1, 1.0, 7.0, 300.0, -1.0], [0.1, 1.0, 2.5, 50.0, 1e3], [1e-3, 1.0, 20.0])
grid("beta_lpdf", stats.beta.logpdf, [1e-12, 1e-3, 0.3, 0.5, 0.99, 1.0 - 1e-9, 1.5],
     [0.1, 1.0, 2.5, 1e3], [0.1, 1.0, 2.5, 1e3])
grid("uniform_lpdf", lambda x, a, b: stats.uniform.logpdf(x, a, b - a), [-3.0, 0.0, 0.4, 1.0, 7.0],
     [-5.0, 0.0], [1.0, 1e6])
grid("logistic_lpdf", stats.logistic.logpdf, [-800.0, -30.0, -1.0, 0.0, 2.5, 700.0], [0.0, 3.0], [0.01, 1.0, 50.0])


def laplace(x, mu, s):
    """scipy's laplace.logpdf takes the log of an underflowed density far
    in the tails (-inf at 2000 scales); the closed form is used there."""
    v = stats.laplace.logpdf(x, mu, s)
    exact = -np.log(2 * s) - abs(x - mu) / s
    if np.isfinite(v):
        close(v, exact)
    return exact


grid("double_exponential_lpdf", laplace, [-1e5, -2.0, 0.0, 0.1, 9.0], [0.0, 1.5], [1e-3, 1.0, 40.0])
grid("weibull_lpdf", lambda x, a, s: stats.weibull_min.logpdf(x, a, scale=s),
     [1e-6, 0.3, 1.0, 4.0, 60.0, -1.0], [0.3, 1.0, 2.5, 20.0], [0.5, 1.0, 30.0])

# ---- Multivariate densities -----------------------------------------------

K = 3
A = rng.normal(size=(K, K))
L = np.linalg.cholesky(A @ A.T + K * np.eye(K))
mu = np.array([0.5, -1.0, 2.0])
X = rng.normal(size=(5, K)) * 2.0 + mu
add("multi_normal_cholesky_lpdf", [X, mu, L], stats.multivariate_normal.logpdf(X, mu, L @ L.T).sum())
add("multi_normal_cholesky_lpdf", [X[0], mu, L], stats.multivariate_normal.logpdf(X[0], mu, L @ L.T))
add("multi_normal_cholesky_lpdf", [X, 0.0, L], stats.multivariate_normal.logpdf(X, np.zeros(K), L @ L.T).sum())
L4 = np.linalg.cholesky(np.diag([1e-4, 1.0, 1e4, 3.0]) + 1e-5)
X4 = rng.normal(size=(2, 4))
add("multi_normal_cholesky_lpdf", [X4, np.zeros(4), L4], stats.multivariate_normal.logpdf(X4, np.zeros(4), L4 @ L4.T).sum())


def lkj_log_c(k, eta):
    """log c_K(η), the LKJ normaliser (Lewandowski, Kurowicka and Joe, 2009)."""
    out = 0.0
    for j in range(1, k):
        m_ = k - j
        b = eta + (m_ - 1) / 2
        out += m_ * ((2 * eta - 2 + m_) * np.log(2) + special.betaln(b, b))
    return out


def lkj_chol(Lc, eta):
    k = Lc.shape[0]
    i = np.arange(k)
    return np.sum((k - i - 1 + 2 * eta - 2) * np.log(np.diag(Lc))) - lkj_log_c(k, eta)


# Check the normaliser independently: for K = 2 the correlation r has
# density ∝ (1 - r²)^(η-1) on (-1, 1); for K = 3 integrate det(R)^(η-1)
# over the three correlations.
for eta in [0.7, 1.0, 2.5]:
    total = integrate.quad(lambda r: (1 - r * r) ** (eta - 1), -1, 1)[0]
    close(np.log(total), lkj_log_c(2, eta), 1e-8)


def det3(a, b, c):
    return 1 - a * a - b * b - c * c + 2 * a * b * c


for eta in [1.0, 2.5]:
    f = lambda c, b, a: max(det3(a, b, c), 0.0) ** (eta - 1) if det3(a, b, c) > 0 else 0.0
    # The valid region for c given a, b: the roots of det3 in c.
    total = integrate.tplquad(
        f, -1, 1, -1, 1,
        lambda a, b: a * b - np.sqrt(max((1 - a * a) * (1 - b * b), 0.0)),
        lambda a, b: a * b + np.sqrt(max((1 - a * a) * (1 - b * b), 0.0)),
        epsabs=1e-10, epsrel=1e-8)[0]
    close(np.log(total), lkj_log_c(3, eta), 1e-6)


def random_corr_chol(k):
    a = rng.normal(size=(k, k))
    s = a @ a.T + 0.5 * np.eye(k)
    d = np.sqrt(np.diag(s))
    return np.linalg.cholesky(s / np.outer(d, d))


for k, eta in [(2, 1.0), (3, 0.5), (3, 2.0), (4, 1.0), (5, 7.5)]:
    Lc = random_corr_chol(k)
    add("lkj_corr_cholesky_lpdf", [Lc, eta], lkj_chol(Lc, eta))
Ls = np.stack([random_corr_chol(3) for _ in range(2)])
add("lkj_corr_cholesky_lpdf", [Ls, 1.5], sum(lkj_chol(l, 1.5) for l in Ls))

for alpha in [np.array([0.5, 1.0, 3.0]), np.array([1e-2, 2.0, 40.0]), np.array([1.0, 1.0, 1.0])]:
    xd = rng.dirichlet(alpha + 0.5, size=4)
    add("dirichlet_lpdf", [xd, alpha], sum(stats.dirichlet.logpdf(r, alpha) for r in xd))
    add("dirichlet_lpdf", [xd[0], alpha], stats.dirichlet.logpdf(xd[0], alpha))

# ---- Discrete distributions -----------------------------------------------

grid("bernoulli_lpmf", stats.bernoulli.logpmf, [0.0, 1.0], [1e-12, 0.3, 0.5, 1 - 1e-6])
grid("bernoulli_logit_lpmf", lambda n, a: special.log_expit(a if n == 1 else -a), [0.0, 1.0],
     [-800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 700.0])
grid("binomial_lpmf", stats.binom.logpmf, [0.0, 1.0, 3.0, 10.0], [10.0, 15.0, 1000.0], [1e-9, 0.2, 0.5, 0.99])
add("binomial_lpmf", [0.0, 5.0, 0.0], 0.0)
add("binomial_lpmf", [5.0, 5.0, 1.0], 0.0)


def binomial_logit(n, N, a):
    return (np.log(special.binom(N, n)) + n * special.log_expit(a) + (N - n) * special.log_expit(-a))


close(binomial_logit(3.0, 10.0, 0.4), stats.binom.logpmf(3, 10, special.expit(0.4)))
grid("binomial_logit_lpmf", binomial_logit, [0.0, 1.0, 3.0, 10.0], [10.0, 15.0, 1000.0], [-40.0, -2.0, 0.0, 0.5, 30.0])
grid("poisson_lpmf", stats.poisson.logpmf, [0.0, 1.0, 4.0, 30.0, 1000.0], [1e-6, 0.5, 3.0, 25.0, 1e3])
grid("poisson_log_lpmf", lambda n, a: stats.poisson.logpmf(n, np.exp(a)), [0.0, 1.0, 4.0, 30.0, 1000.0],
     [-10.0, -1.0, 0.0, 2.0, 6.0])


def nb2_log(n, log_mu, phi):
    """log NegBinomial2(n | e^log_mu, φ) for whole n, without cancellation:
    log Γ(n + φ) - log Γ(φ) - n log(μ + φ) = Σ_{i<n} log1p((i - μ)/(μ + φ))
    (scipy's nbinom loses digits for large φ: 5e-9 at φ = 1e8)."""
    mu_ = np.exp(log_mu)
    ratio = math.fsum(math.log1p((i - mu_) / (mu_ + phi)) for i in range(int(n)))
    return ratio + n * log_mu - math.lgamma(n + 1) - phi * np.log1p(mu_ / phi)


for n, mu_, phi in itertools.product([0.0, 2.0, 17.0], [0.3, 5.0], [0.5, 4.0, 100.0]):
    close(nb2_log(n, np.log(mu_), phi), stats.nbinom.logpmf(n, phi, phi / (mu_ + phi)), 1e-12)
grid("neg_binomial_2_lpmf", lambda n, mu_, phi: nb2_log(n, np.log(mu_), phi),
     [0.0, 1.0, 2.0, 17.0, 500.0], [1e-3, 0.3, 5.0, 400.0], [1e-2, 0.5, 4.0, 100.0, 1e8])
grid("neg_binomial_2_log_lpmf", nb2_log, [0.0, 1.0, 2.0, 17.0, 500.0], [-7.0, -1.2, 1.6, 6.0], [1e-2, 0.5, 4.0, 100.0, 1e8])
grid("beta_binomial_lpmf", stats.betabinom.logpmf, [0.0, 1.0, 6.0, 20.0], [20.0, 40.0], [0.2, 1.0, 30.0], [0.5, 2.0, 1e3])

beta_cat = np.array([0.3, -2.0, 5.0, 1.0])
for y in [1.0, 2.0, 3.0, 4.0]:
    add("categorical_logit_lpmf", [y, beta_cat], special.log_softmax(beta_cat)[int(y) - 1])
ys = np.array([1.0, 3.0, 3.0, 2.0, 4.0])
add("categorical_logit_lpmf", [ys, beta_cat], special.log_softmax(beta_cat)[ys.astype(int) - 1].sum())
big = np.array([-700.0, 0.0, 700.0])
add("categorical_logit_lpmf", [np.array([1.0, 2.0]), big], special.log_softmax(big)[[0, 1]].sum())


def ordered_logistic(y, eta, c):
    k = len(c) + 1
    y = int(y)
    if y == 1:
        return special.log_expit(-(eta - c[0]))
    if y == k:
        return special.log_expit(eta - c[-1])
    a, b = eta - c[y - 2], eta - c[y - 1]
    # Difference of the two CDFs on the side where both are small.
    p = special.expit(-b) - special.expit(-a) if b > 0 else special.expit(a) - special.expit(b)
    return np.log(p)


cuts = np.array([-1.5, 0.0, 0.2, 3.0])
for y, eta in itertools.product([1.0, 2.0, 3.0, 4.0, 5.0], [-30.0, -1.0, 0.1, 2.0, 25.0]):
    add("ordered_logistic_lpmf", [y, eta, cuts], ordered_logistic(y, eta, cuts))
ys = np.array([1.0, 5.0, 3.0])
etas = np.array([0.4, -2.0, 1.0])
add("ordered_logistic_lpmf", [ys, etas, cuts], sum(ordered_logistic(y, e, cuts) for y, e in zip(ys, etas)))

json.dump(OUT, sys.stdout, indent=None, separators=(",", ":"), allow_nan=False)
sys.stdout.write("\n")
