"""Reference answers for the published models of examples/models/, computed
independently of saddle with JAX (log densities from jax.scipy.stats,
derivatives by jax) and scipy.optimize.

    .venv/bin/python bench/models_reference.py

For each model it writes the data (examples/models/NAME.data.json, the
`--data` argument of `saddle laplace`) and the answer
(tests/data/models/NAME.json: mode, covariance, log density at the mode
and log evidence of Laplace's approximation over the unconstrained
parameters). The tests (tests/models.rs) read both; CI needs no Python.
"""
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize
from jax.scipy import stats

jax.config.update("jax_enable_x64", True)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def half_cauchy_lpdf(x, scale):
    return jnp.log(2.0) + stats.cauchy.logpdf(x, 0.0, scale)


def inv_gamma_lpdf(x, a, b):
    # scipy.stats.invgamma(a, scale=b); jax.scipy.stats has no inverse gamma.
    return a * jnp.log(b) - jax.scipy.special.gammaln(a) - (a + 1.0) * jnp.log(x) - b / x


def half_normal_lpdf(x, scale):
    return jnp.log(2.0) + stats.norm.logpdf(x, 0.0, scale)


# Eight schools (Rubin 1981), non-centred. Parameters: mu, log tau, eta[J].
SCHOOLS_Y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]
SCHOOLS_SIGMA = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]


def eight_schools(theta, y, sigma):
    mu, log_tau, eta = theta[0], theta[1], theta[2:]
    tau = jnp.exp(log_tau)
    lp = stats.norm.logpdf(mu, 0.0, 5.0)
    lp += half_cauchy_lpdf(tau, 5.0) + log_tau
    lp += jnp.sum(stats.norm.logpdf(eta, 0.0, 1.0))
    lp += jnp.sum(stats.norm.logpdf(y, mu + tau * eta, sigma))
    return lp


# Radon-style varying intercepts: y ~ N(a[county] + b x, sigma_y),
# a ~ N(mu_a, sigma_a). Parameters: mu_a, b, log sigma_a, log sigma_y
# (fixed effects), a[J] (random effects).
def radon_data():
    rng = np.random.default_rng(20261205)
    counties, n = 12, 90
    a = 1.5 + 0.4 * rng.standard_normal(counties)
    county = rng.integers(0, counties, size=n)
    x = rng.integers(0, 2, size=n).astype(float)
    y = a[county] - 0.6 * x + 0.7 * rng.standard_normal(n)
    return county, x, y


def radon_marginal(theta, county, x, y, counties):
    """The log density of the fixed effects with the intercepts integrated
    out exactly (the model is Gaussian in them)."""
    mu_a, b, log_sa, log_sy = theta[0], theta[1], theta[2], theta[3]
    sa, sy = jnp.exp(log_sa), jnp.exp(log_sy)
    lp = stats.norm.logpdf(mu_a, 0.0, 10.0) + stats.norm.logpdf(b, 0.0, 10.0)
    lp += half_normal_lpdf(sa, 5.0) + log_sa + half_normal_lpdf(sy, 5.0) + log_sy
    z = jax.nn.one_hot(county, counties)
    v = sy**2 * jnp.eye(y.shape[0]) + sa**2 * z @ z.T
    lp += stats.multivariate_normal.logpdf(y, mu_a + b * x, v)
    return lp


def radon_intercepts(theta, county, x, y, counties):
    """The intercepts' conditional mode (= mean) given the fixed effects."""
    mu_a, b, sa, sy = theta[0], theta[1], jnp.exp(theta[2]), jnp.exp(theta[3])
    z = jax.nn.one_hot(county, counties)
    v = sy**2 * jnp.eye(y.shape[0]) + sa**2 * z @ z.T
    return mu_a + sa**2 * z.T @ jnp.linalg.solve(v, y - mu_a - b * x)


# GP regression, squared-exponential kernel, hyperparameters on the log
# scale: rho ~ InvGamma(5, 5), alpha ~ N+(0, 1), sigma ~ N+(0, 1),
# y ~ MVN(0, K + sigma^2 I).
def gp_data():
    rng = np.random.default_rng(7)
    n = 24
    x = np.sort(rng.uniform(-5.0, 5.0, size=n))
    y = np.sin(x) + 0.3 * rng.standard_normal(n)
    return x, y


def gp(theta, x, y):
    log_rho, log_alpha, log_sigma = theta[0], theta[1], theta[2]
    rho, alpha, sigma = jnp.exp(log_rho), jnp.exp(log_alpha), jnp.exp(log_sigma)
    lp = inv_gamma_lpdf(rho, 5.0, 5.0) + log_rho
    lp += half_normal_lpdf(alpha, 1.0) + log_alpha
    lp += half_normal_lpdf(sigma, 1.0) + log_sigma
    d = x[:, None] - x[None, :]
    k = alpha**2 * jnp.exp(-0.5 * d**2 / rho**2) + sigma**2 * jnp.eye(x.shape[0])
    lp += stats.multivariate_normal.logpdf(y, jnp.zeros_like(y), k)
    return lp


def laplace(f, init):
    f = jax.jit(f)
    neg = jax.jit(lambda t: -f(t))
    grad = jax.jit(jax.grad(neg))
    res = scipy.optimize.minimize(neg, init, jac=grad, method="BFGS", options={"gtol": 1e-12, "maxiter": 10_000})
    theta = jnp.asarray(res.x)
    hess = jax.jit(jax.hessian(f))
    # Newton polish from the BFGS end point.
    for _ in range(20):
        h = hess(theta)
        step = jnp.linalg.solve(h, jax.grad(f)(theta))
        theta = theta - step
        if float(jnp.max(jnp.abs(step))) < 1e-14:
            break
    h = np.asarray(hess(theta))
    cov = np.linalg.inv(-h)
    sign, logdet = np.linalg.slogdet(-h)
    assert sign > 0, "not a maximum"
    d = theta.shape[0]
    value = float(f(theta))
    return {
        "mode": np.asarray(theta).tolist(),
        "covariance": cov.tolist(),
        "log_density_at_mode": value,
        "log_evidence": value + 0.5 * d * math.log(2 * math.pi) - 0.5 * logdet,
        "grad_norm": float(jnp.linalg.norm(jax.grad(f)(theta))),
    }


def write(name, data, answer):
    os.makedirs(os.path.join(ROOT, "tests", "data", "models"), exist_ok=True)
    with open(os.path.join(ROOT, "examples", "models", f"{name}.data.json"), "w") as fh:
        json.dump(data, fh)
        fh.write("\n")
    with open(os.path.join(ROOT, "tests", "data", "models", f"{name}.json"), "w") as fh:
        json.dump(answer, fh, indent=1)
        fh.write("\n")
    print(name, "log evidence", answer["log_evidence"], "grad norm", answer["grad_norm"])


def main():
    y, sigma = jnp.array(SCHOOLS_Y), jnp.array(SCHOOLS_SIGMA)
    ans = laplace(lambda t: eight_schools(t, y, sigma), np.zeros(2 + len(SCHOOLS_Y)))
    write("eight_schools", [SCHOOLS_Y, SCHOOLS_SIGMA], ans)

    # The joint density has no mode (it grows without bound as sigma_a -> 0
    # with every intercept at mu_a): the intercepts are random effects,
    # integrated out (`saddle laplace --random 4:16`).
    county, x, yr = radon_data()
    args = (jnp.array(county), jnp.array(x), jnp.array(yr), 12)
    ans = laplace(lambda t: radon_marginal(t, *args), np.zeros(4))
    ans["log_marginal"] = ans.pop("log_density_at_mode")
    ans["random_mode"] = np.asarray(radon_intercepts(jnp.array(ans["mode"]), *args)).tolist()
    write("radon", [county.tolist(), x.tolist(), yr.tolist()], ans)

    xg, yg = gp_data()
    ans = laplace(lambda t: gp(t, jnp.array(xg), jnp.array(yg)), np.zeros(3))
    write("gp_regression", [xg.tolist(), yg.tolist()], ans)


if __name__ == "__main__":
    main()
