"""Writes the small logistic-regression data set of the examples.

    python examples/data/make_logistic.py [N D PREFIX]

X has an intercept column of ones and D-1 standard normal covariates;
y ~ Bernoulli(logistic(X beta)) with beta = (-0.5, 1, -1, 0.5, ...).
Also writes PREFIX.sir: the log posterior (beta ~ N(0, 5^2 I)) with the
shapes of this data, for `saddle laplace`.
"""
import sys

import numpy as np


def log_posterior_sir(n, d, prior_sd=5.0):
    return f"""# Bayesian logistic regression: beta ~ N(0, {prior_sd}^2 I), y ~ Bernoulli(logistic(X beta)).
# log p(beta | X, y) = sum(y * eta + log(logistic(-eta))) - |beta|^2 / (2 * {prior_sd}^2), eta = X beta
func @log_posterior(%beta: f64[{d}], %x: f64[{n},{d}], %y: f64[{n}]) -> f64[] {{
  %eta: f64[{n}] = dot_general %x, %beta {{lhs_contract = [1], rhs_contract = [0]}}
  %ye: f64[{n}] = mul %y, %eta
  %neta: f64[{n}] = neg %eta
  %s: f64[{n}] = logistic %neta
  %ls: f64[{n}] = log %s
  %terms: f64[{n}] = add %ye, %ls
  %ll: f64[] = reduce_sum %terms {{axes = [0]}}
  %b2: f64[{d}] = mul %beta, %beta
  %ss: f64[] = reduce_sum %b2 {{axes = [0]}}
  %k: f64[] = const {{value = {-0.5 / prior_sd**2!r}}}
  %lp: f64[] = mul %k, %ss
  %r: f64[] = add %ll, %lp
  return %r
}}
"""


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    d = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    prefix = sys.argv[3] if len(sys.argv) > 3 else "examples/data/logistic"
    rng = np.random.default_rng(20240601)
    x = np.concatenate([np.ones((n, 1)), rng.standard_normal((n, d - 1))], axis=1)
    beta = np.array([(-0.5 if j == 0 else (1.0, -1.0, 0.5)[(j - 1) % 3] / np.sqrt(1 + (j - 1) // 3)) for j in range(d)])
    p = 1.0 / (1.0 + np.exp(-(x @ beta)))
    y = (rng.random(n) < p).astype(np.float64)
    np.save(prefix + "_X.npy", x)
    np.save(prefix + "_y.npy", y)
    with open(prefix + ".sir", "w") as f:
        f.write(log_posterior_sir(n, d))


if __name__ == "__main__":
    main()
