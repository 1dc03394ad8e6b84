#!/usr/bin/env python3
"""Writes the anchor models as .sir files under bench/anchors/.

Each file holds two functions over the same log density:
  the first, over x = (fixed effects, random effects), for
    saddle laplace FILE --random RANGES;
  the second (suffix _given), over the random effects alone with the fixed
    effects as data, for one Laplace value at given fixed effects
    (TMB's obj$fn(obj$par), negated).
Run from the repository root: python3 bench/anchors/make_sir.py
"""
import os

HALF_LOG_2PI = 0.9189385332046727
DATA = "crates/laplace/tests/data/anchors"


class Body:
    """Numbered SSA statements with their types."""

    def __init__(self):
        self.lines = []

    def op(self, name, ty, text):
        self.lines.append("  %%%s: %s = %s" % (name, ty, text))
        return "%" + name

    def comment(self, text):
        self.lines.append("  # " + text)

    def scalar(self, name, vec, i):
        s = self.op(name + ".s", "f64[1]", "slice %s {start = [%d], limit = [%d]}" % (vec, i, i + 1))
        return self.op(name, "f64[]", "reshape %s {shape = []}" % s)

    def const(self, name, value):
        return self.op(name, "f64[]", "const {value = %r}" % float(value))

    def bcast(self, name, s, shape):
        return self.op(name, "f64[%s]" % ",".join(map(str, shape)), "broadcast_in_dim %s {shape = %s, dims = []}" % (s, list(shape)))

    def sumsq(self, name, v, shape):
        t = "f64[%s]" % ",".join(map(str, shape))
        sq = self.op(name + ".sq", t, "mul %s, %s" % (v, v))
        return self.op(name, "f64[]", "reduce_sum %s {axes = %s}" % (sq, list(range(len(shape)))))

    def gauss(self, name, ss, log_sd, count):
        """log of `count` normal densities with sd exp(log_sd) whose squared deviations sum to ss."""
        m2 = self.const(name + ".m2", -2.0)
        a = self.op(name + ".a", "f64[]", "mul %s, %s" % (m2, log_sd))
        e = self.op(name + ".e", "f64[]", "exp %s" % a)
        q = self.op(name + ".q", "f64[]", "mul %s, %s" % (ss, e))
        mh = self.const(name + ".mh", -0.5)
        h = self.op(name + ".h", "f64[]", "mul %s, %s" % (mh, q))
        c0 = self.const(name + ".c0", HALF_LOG_2PI)
        c = self.op(name + ".c", "f64[]", "add %s, %s" % (log_sd, c0))
        k = self.const(name + ".k", count)
        n = self.op(name + ".n", "f64[]", "mul %s, %s" % (k, c))
        return self.op(name, "f64[]", "sub %s, %s" % (h, n))


def func(name, params, body, result, doc):
    head = "".join("# %s\n" % l for l in doc)
    ps = ", ".join("%%%s: %s" % p for p in params)
    return "%sfunc @%s(%s) -> f64[] {\n%s\n  return %s\n}\n" % (head, name, ps, "\n".join(body.lines), result)


def ar1_body(b, th, eta_flat, y):
    n, size = 8, 4096
    b.comment("phi = tanh(theta); the field's precision is the Kronecker product of four")
    b.comment("AR(1) precisions, R^-1 = W'W with W x = (x0, (x_t - phi x_{t-1}) / sqrt(1 - phi^2))")
    phi = b.op("phi", "f64[]", "tanh %s" % th)
    one = b.const("one", 1.0)
    phi2 = b.op("phi2", "f64[]", "mul %s, %s" % (phi, phi))
    omp = b.op("omp", "f64[]", "sub %s, %s" % (one, phi2))
    c = b.op("c", "f64[]", "rsqrt %s" % omp)
    w = b.op("eta", "f64[8,8,8,8]", "reshape %s {shape = [8, 8, 8, 8]}" % eta_flat)
    for k in range(4):
        b.comment("W along axis %d" % k)
        full = [n] * 4

        def sl(tag, lo, hi):
            start = [0] * 4
            limit = list(full)
            start[k], limit[k] = lo, hi
            shape = list(full)
            shape[k] = hi - lo
            return b.op("w%d.%s" % (k, tag), "f64[%s]" % ",".join(map(str, shape)), "slice %s {start = %s, limit = %s}" % (w, start, limit)), shape

        first, _ = sl("first", 0, 1)
        hi, shape = sl("hi", 1, n)
        lo, _ = sl("lo", 0, n - 1)
        t = "f64[%s]" % ",".join(map(str, shape))
        pb = b.bcast("w%d.phi" % k, phi, shape)
        cb = b.bcast("w%d.c" % k, c, shape)
        pl = b.op("w%d.plo" % k, t, "mul %s, %s" % (pb, lo))
        d = b.op("w%d.d" % k, t, "sub %s, %s" % (hi, pl))
        dc = b.op("w%d.dc" % k, t, "mul %s, %s" % (d, cb))
        w = b.op("w%d" % k, "f64[8,8,8,8]", "concatenate %s, %s {axis = %d}" % (first, dc, k))
    ss = b.sumsq("ss", w, [n] * 4)
    b.comment("log N(eta; 0, Q^-1) = -ss/2 + (1/2) log det Q - 2048 log 2pi, log det Q = -4 * 8^3 * 7 * log(1 - phi^2)")
    mh = b.const("mhalf", -0.5)
    q = b.op("quad", "f64[]", "mul %s, %s" % (mh, ss))
    lo = b.op("lomp", "f64[]", "log %s" % omp)
    kd = b.const("kdet", -7168.0)
    ld = b.op("halflogdet", "f64[]", "mul %s, %s" % (kd, lo))
    kn = b.const("knorm", -size * HALF_LOG_2PI)
    p0 = b.op("prior0", "f64[]", "add %s, %s" % (q, ld))
    prior = b.op("prior", "f64[]", "add %s, %s" % (p0, kn))
    b.comment("sum of log Poisson(y; exp(eta))")
    mu = b.op("mu", "f64[4096]", "exp %s" % eta_flat)
    ye = b.op("ye", "f64[4096]", "mul %s, %s" % (y, eta_flat))
    onev = b.op("onev", "f64[4096]", "const {value = 1.0}")
    y1 = b.op("y1", "f64[4096]", "add %s, %s" % (y, onev))
    lf = b.op("lfact", "f64[4096]", "lgamma %s" % y1)
    l0 = b.op("l0", "f64[4096]", "sub %s, %s" % (ye, mu))
    l1 = b.op("l1", "f64[4096]", "sub %s, %s" % (l0, lf))
    lik = b.op("lik", "f64[]", "reduce_sum %s {axes = [0]}" % l1)
    return b.op("lp", "f64[]", "add %s, %s" % (prior, lik))


def ar1():
    doc = [
        "Separable AR(1) Gaussian field on an 8^4 lattice with Poisson counts:",
        "eta ~ N(0, (Q1 x Q1 x Q1 x Q1)^-1), Q1 the precision of a unit-variance AR(1)",
        "with coefficient phi = tanh(theta); y ~ Poisson(exp(eta)).",
        "x = (theta, eta[4096]), eta row-major over the lattice:",
        "saddle laplace ar1_4d.sir --random 1:4097 --init ... --data '[\"@y.npy\"]'",
    ]
    b = Body()
    th = b.scalar("theta", "%x", 0)
    eta = b.op("etaf", "f64[4096]", "slice %x {start = [1], limit = [4097]}")
    out = func("ar1_4d", [("x", "f64[4097]"), ("y", "f64[4096]")], b, ar1_body(b, th, eta, "%y"), doc)
    b = Body()
    doc2 = ["The same density over eta alone, theta given as data (one Laplace value):",
            "saddle laplace ar1_4d.sir --func ar1_4d_given --init ... --data '[THETA, \"@y.npy\"]'"]
    out2 = func("ar1_4d_given", [("etaf", "f64[4096]"), ("theta", "f64[]"), ("y", "f64[4096]")], b,
                ar1_body(b, "%theta", "%etaf", "%y"), doc2)
    return out + "\n" + out2


def thetalog_body(b, par, X, y):
    T = 200
    lr0 = b.scalar("lr0", par, 0)
    lth = b.scalar("ltheta", par, 1)
    lk = b.scalar("logk", par, 2)
    lsq = b.scalar("lsdq", par, 3)
    lsr = b.scalar("lsdr", par, 4)
    b.comment("X[t] ~ N(X[t-1] + r0 (1 - exp(theta (X[t-1] - log K))), sdq^2), t = 1..199")
    r0 = b.op("r0", "f64[]", "exp %s" % lr0)
    th = b.op("th", "f64[]", "exp %s" % lth)
    t1 = "f64[%d]" % (T - 1)
    prev = b.op("prev", t1, "slice %s {start = [0], limit = [%d]}" % (X, T - 1))
    nxt = b.op("next", t1, "slice %s {start = [1], limit = [%d]}" % (X, T))
    lkb = b.bcast("logkb", lk, [T - 1])
    thb = b.bcast("thb", th, [T - 1])
    r0b = b.bcast("r0b", r0, [T - 1])
    onev = b.op("onev", t1, "const {value = 1.0}")
    dev = b.op("dev", t1, "sub %s, %s" % (prev, lkb))
    td = b.op("tdev", t1, "mul %s, %s" % (thb, dev))
    e = b.op("ratio", t1, "exp %s" % td)
    g0 = b.op("g0", t1, "sub %s, %s" % (onev, e))
    g = b.op("growth", t1, "mul %s, %s" % (r0b, g0))
    mean = b.op("mean", t1, "add %s, %s" % (prev, g))
    rq = b.op("rq", t1, "sub %s, %s" % (nxt, mean))
    ssq = b.sumsq("ssq", rq, [T - 1])
    proc = b.gauss("process", ssq, lsq, T - 1)
    b.comment("y[t] ~ N(X[t], sdr^2)")
    ro = b.op("ro", "f64[%d]" % T, "sub %s, %s" % (y, X))
    ssr = b.sumsq("ssr", ro, [T])
    obs = b.gauss("obs", ssr, lsr, T)
    return b.op("lp", "f64[]", "add %s, %s" % (proc, obs))


def thetalog():
    doc = [
        "Theta-logistic state-space model, 200 steps, on the log scale:",
        "X[t] = X[t-1] + r0 (1 - (exp(X[t-1]) / K)^theta) + N(0, sdq^2), y[t] = X[t] + N(0, sdr^2),",
        "flat on X[0]. x = (log r0, log theta, log K, log sdq, log sdr, X[200]):",
        "saddle laplace thetalog.sir --random 5:205 --init ... --data '[\"@y.npy\"]'",
    ]
    b = Body()
    par = b.op("par", "f64[5]", "slice %x {start = [0], limit = [5]}")
    X = b.op("X", "f64[200]", "slice %x {start = [5], limit = [205]}")
    out = func("thetalog", [("x", "f64[205]"), ("y", "f64[200]")], b, thetalog_body(b, par, X, "%y"), doc)
    b = Body()
    doc2 = ["The same density over X alone, the five parameters given as data (one Laplace value)."]
    out2 = func("thetalog_given", [("X", "f64[200]"), ("par", "f64[5]"), ("y", "f64[200]")], b,
                thetalog_body(b, "%par", "%X", "%y"), doc2)
    return out + "\n" + out2


def glmm_body(b, par, u, n, G):
    b0 = b.scalar("b0", par, 0)
    b1 = b.scalar("b1", par, 1)
    b2 = b.scalar("b2", par, 2)
    lsd = b.scalar("lsd", par, 3)
    tn, tg = "f64[%d]" % n, "f64[%d]" % G
    b.comment("group linear predictor b0 + b2 x2[g] + u[g], taken to the rows by group")
    b0g = b.bcast("b0g", b0, [G])
    b2g = b.bcast("b2g", b2, [G])
    s2 = b.op("s2", tg, "mul %s, %%x2" % b2g)
    a0 = b.op("a0", tg, "add %s, %s" % (b0g, s2))
    ge = b.op("geta", tg, "add %s, %s" % (a0, u))
    rows = b.op("rows", tn, "take %s, %%group {axis = 0}" % ge)
    x1 = b.op("x1f", tn, "convert %x1 {dtype = f64}")
    b1n = b.bcast("b1n", b1, [n])
    s1 = b.op("s1", tn, "mul %s, %s" % (b1n, x1))
    eta = b.op("eta", tn, "add %s, %s" % (rows, s1))
    b.comment("sum of log Poisson(y; exp(eta))")
    y = b.op("yf", tn, "convert %y {dtype = f64}")
    mu = b.op("mu", tn, "exp %s" % eta)
    ye = b.op("ye", tn, "mul %s, %s" % (y, eta))
    onev = b.op("onev", tn, "const {value = 1.0}")
    y1 = b.op("y1", tn, "add %s, %s" % (y, onev))
    lf = b.op("lfact", tn, "lgamma %s" % y1)
    l0 = b.op("l0", tn, "sub %s, %s" % (ye, mu))
    l1 = b.op("l1", tn, "sub %s, %s" % (l0, lf))
    lik = b.op("lik", "f64[]", "reduce_sum %s {axes = [0]}" % l1)
    b.comment("u[g] ~ N(0, sd^2)")
    ss = b.sumsq("uss", u, [G])
    prior = b.gauss("prior", ss, lsd, G)
    return b.op("lp", "f64[]", "add %s, %s" % (prior, lik))


def npy_len(path):
    with open(path, "rb") as f:
        head = f.read(128).decode("latin1")
    return int(head.split("'shape': (")[1].split(",")[0])


def glmm():
    n, G = npy_len(os.path.join(DATA, "poisson_glmm_y.npy")), 2000
    doc = [
        "Poisson GLMM, random intercepts of %d groups, %d rows:" % (G, n),
        "y ~ Poisson(exp(b0 + b1 x1 + b2 x2[group] + u[group])), u ~ N(0, sd^2).",
        "x = (b0, b1, b2, log sd, u[%d]); data y, group, x1 (i32), x2 (f64, per group):" % G,
        "saddle laplace poisson_glmm.sir --random 4:%d --init ... --data '[\"@y.npy\", \"@group.npy\", \"@x1.npy\", \"@x2.npy\"]'" % (G + 4),
    ]
    data = [("y", "i32[%d]" % n), ("group", "i32[%d]" % n), ("x1", "i32[%d]" % n), ("x2", "f64[%d]" % G)]
    b = Body()
    par = b.op("par", "f64[4]", "slice %x {start = [0], limit = [4]}")
    u = b.op("u", "f64[%d]" % G, "slice %%x {start = [4], limit = [%d]}" % (G + 4))
    out = func("poisson_glmm", [("x", "f64[%d]" % (G + 4))] + data, b, glmm_body(b, par, u, n, G), doc)
    b = Body()
    doc2 = ["The same density over u alone, (b0, b1, b2, log sd) given as data (one Laplace value)."]
    out2 = func("poisson_glmm_given", [("u", "f64[%d]" % G), ("par", "f64[4]")] + data, b,
                glmm_body(b, "%par", "%u", n, G), doc2)
    return out + "\n" + out2


def orange_body(b, par, u, trees, ages):
    b0 = b.scalar("b0", par, 0)
    b1 = b.scalar("b1", par, 1)
    b2 = b.scalar("b2", par, 2)
    lsd = b.scalar("lsd", par, 3)
    lsdu = b.scalar("lsdu", par, 4)
    shape = [trees, ages]
    tm = "f64[%d,%d]" % (trees, ages)
    b.comment("f[i, j] = (b0 + u[i]) / (1 + exp(-(t[j] - b1) / b2))")
    b0v = b.bcast("b0v", b0, [trees])
    asym = b.op("asym", "f64[%d]" % trees, "add %s, %s" % (b0v, u))
    asymm = b.op("asymm", tm, "broadcast_in_dim %s {shape = %s, dims = [0]}" % (asym, shape))
    b1t = b.bcast("b1t", b1, [ages])
    b2t = b.bcast("b2t", b2, [ages])
    tv = "f64[%d]" % ages
    dt = b.op("dt", tv, "sub %s, %s" % (b1t, "%t"))
    z = b.op("z", tv, "div %s, %s" % (dt, b2t))
    ez = b.op("ez", tv, "exp %s" % z)
    onet = b.op("onet", tv, "const {value = 1.0}")
    den = b.op("den", tv, "add %s, %s" % (onet, ez))
    denm = b.op("denm", tm, "broadcast_in_dim %s {shape = %s, dims = [1]}" % (den, shape))
    f = b.op("f", tm, "div %s, %s" % (asymm, denm))
    b.comment("y[i, j] ~ N(f[i, j], sigma^2)")
    ym = b.op("ym", tm, "reshape %%y {shape = %s}" % shape)
    r = b.op("r", tm, "sub %s, %s" % (ym, f))
    ss = b.sumsq("rss", r, shape)
    lik = b.gauss("lik", ss, lsd, trees * ages)
    b.comment("u[i] ~ N(0, sigma_u^2)")
    uss = b.sumsq("uss", u, [trees])
    prior = b.gauss("prior", uss, lsdu, trees)
    return b.op("lp", "f64[]", "add %s, %s" % (prior, lik))


def orange():
    ages = npy_len(os.path.join(DATA, "orange_big_t.npy"))
    trees = npy_len(os.path.join(DATA, "orange_big_y.npy")) // ages
    p = 5
    doc = [
        "Orange-tree growth at scale: %d trees observed at the same %d ages," % (trees, ages),
        "y[i, j] ~ N((b0 + u[i]) / (1 + exp(-(t[j] - b1) / b2)), sigma^2), u[i] ~ N(0, sigma_u^2).",
        "x = (b0, b1, b2, log sigma, log sigma_u, u[%d]); data y (f64[%d], tree-major), t (f64[%d]):" % (trees, trees * ages, ages),
        "saddle laplace orange_big.sir --random %d:%d --init ... --data '[\"@y.npy\", \"@t.npy\"]'" % (p, p + trees),
    ]
    data = [("y", "f64[%d]" % (trees * ages)), ("t", "f64[%d]" % ages)]
    b = Body()
    par = b.op("par", "f64[%d]" % p, "slice %%x {start = [0], limit = [%d]}" % p)
    u = b.op("u", "f64[%d]" % trees, "slice %%x {start = [%d], limit = [%d]}" % (p, p + trees))
    out = func("orange_big", [("x", "f64[%d]" % (p + trees))] + data, b, orange_body(b, par, u, trees, ages), doc)
    b = Body()
    doc2 = ["The same density over u alone, (b0, b1, b2, log sigma, log sigma_u) given as data (one Laplace value)."]
    out2 = func("orange_big_given", [("u", "f64[%d]" % trees), ("par", "f64[%d]" % p)] + data, b,
                orange_body(b, "%par", "%u", trees, ages), doc2)
    return out + "\n" + out2


INSTEVAL_LEVELS = (("s", 2972), ("d", 1128), ("ds", 28))


def insteval_body(b, par, effects, n):
    tn = "f64[%d]" % n
    b0 = b.scalar("b0", par, 0)
    b1 = b.scalar("b1", par, 1)
    b.comment("eta = b0 + b1 service + u_s[s] + u_d[d] + u_ds[ds]")
    sv = b.op("svc", tn, "convert %service {dtype = f64}")
    b0n = b.bcast("b0n", b0, [n])
    b1n = b.bcast("b1n", b1, [n])
    s1 = b.op("s1", tn, "mul %s, %s" % (b1n, sv))
    eta = b.op("eta0", tn, "add %s, %s" % (b0n, s1))
    priors = []
    for k, ((name, levels), u) in enumerate(zip(INSTEVAL_LEVELS, effects)):
        rows = b.op("rows_" + name, tn, "take %s, %%%s {axis = 0}" % (u, name))
        eta = b.op("eta%d" % (k + 1), tn, "add %s, %s" % (eta, rows))
        lsd = b.scalar("lsd_" + name, par, 2 + k)
        uss = b.sumsq("uss_" + name, u, [levels])
        priors.append(b.gauss("prior_" + name, uss, lsd, levels))
    b.comment("y ~ N(eta, sigma^2)")
    lse = b.scalar("lsd_e", par, 5)
    r = b.op("r", tn, "sub %%y, %s" % eta)
    ss = b.sumsq("rss", r, [n])
    lp = b.gauss("lik", ss, lse, n)
    b.comment("u_s ~ N(0, sd_s^2), u_d ~ N(0, sd_d^2), u_ds ~ N(0, sd_ds^2)")
    for k, pr in enumerate(priors):
        lp = b.op("lp%d" % k, "f64[]", "add %s, %s" % (lp, pr))
    return lp


def insteval():
    n = npy_len(os.path.join(DATA, "instEval_y.npy"))
    p = 6
    q = sum(l for _, l in INSTEVAL_LEVELS)
    doc = [
        "lme4's InstEval by maximum likelihood, %d ratings: y ~ 1 + service + (1|s) + (1|d) + (1|dept:service)," % n,
        "y = b0 + b1 service + u_s[s] + u_d[d] + u_ds[ds] + N(0, sigma^2), each u ~ N(0, sd^2).",
        "x = (b0, b1, log sd_s, log sd_d, log sd_ds, log sigma, u_s[2972], u_d[1128], u_ds[28]);",
        "data y (f64), service, s, d, ds (i32, 0-based levels):",
        "saddle laplace instEval.sir --random %d:%d --init ... --data '[\"@y.npy\", \"@service.npy\", \"@s.npy\", \"@d.npy\", \"@ds.npy\"]'" % (p, p + q),
    ]
    data = [("y", "f64[%d]" % n)] + [(k, "i32[%d]" % n) for k in ("service", "s", "d", "ds")]

    def effects(b, vec, base):
        out = []
        for name, levels in INSTEVAL_LEVELS:
            out.append(b.op("u_" + name, "f64[%d]" % levels, "slice %s {start = [%d], limit = [%d]}" % (vec, base, base + levels)))
            base += levels
        return out

    b = Body()
    par = b.op("par", "f64[%d]" % p, "slice %%x {start = [0], limit = [%d]}" % p)
    out = func("instEval", [("x", "f64[%d]" % (p + q))] + data, b, insteval_body(b, par, effects(b, "%x", p), n), doc)
    b = Body()
    doc2 = ["The same density over (u_s, u_d, u_ds) alone, the six fixed effects given as data (one Laplace value)."]
    out2 = func("instEval_given", [("u", "f64[%d]" % q), ("par", "f64[%d]" % p)] + data, b,
                insteval_body(b, "%par", effects(b, "%u", 0), n), doc2)
    return out + "\n" + out2


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    models = (("ar1_4d", ar1()), ("thetalog", thetalog()), ("poisson_glmm", glmm()), ("orange_big", orange()),
              ("instEval", insteval()))
    for name, text in models:
        with open(os.path.join(here, name + ".sir"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
