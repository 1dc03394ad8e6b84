# The anchors: TMB (ar1_4d, thetalog, orange_big), glmmTMB and lme4
# (poisson_glmm) on the simulated data of make_data.py, and lme4 and
# glmmTMB (instEval) on lme4's InstEval. Prints CPU timings as lines
#   TIMING <workload> <phase> <cpu seconds> <elapsed seconds>
# and writes the reference numbers the tests hold to
# crates/laplace/tests/data/anchors/<workload>_ref.txt.
# Run from the repository root: Rscript bench/anchors/anchors.R [REPEATS]
suppressPackageStartupMessages({
  library(TMB)
  library(lme4)
  library(glmmTMB)
})
args <- commandArgs(trailingOnly = TRUE)
reps <- if (length(args) >= 1) as.integer(args[1]) else 3L
only <- if (length(args) >= 2) args[2] else "all"
data_dir <- "crates/laplace/tests/data/anchors"
src_dir <- "bench/anchors"
build <- file.path(tempdir(), "anchors")
dir.create(build, showWarnings = FALSE)

read_npy <- function(path) {
  con <- file(path, "rb")
  on.exit(close(con))
  readBin(con, "raw", 8)
  hlen <- readBin(con, "integer", 1, size = 2, signed = FALSE, endian = "little")
  header <- rawToChar(readBin(con, "raw", hlen))
  n <- as.integer(sub(".*'shape': \\(([0-9]+),.*", "\\1", header))
  if (grepl("<f8", header, fixed = TRUE)) {
    readBin(con, "double", n, size = 8, endian = "little")
  } else {
    readBin(con, "integer", n, size = 4, endian = "little")
  }
}

timing <- function(workload, phase, expr) {
  t <- system.time(value <- force(expr), gcFirst = TRUE)
  cat(sprintf("TIMING %s %s %.3f %.3f\n", workload, phase, t[["user.self"]] + t[["sys.self"]], t[["elapsed"]]))
  value
}

# nlminb from `par`, then Newton steps on the gradient (Hessian by
# differences of it) until it is below 1e-9: the reference optimum.
polish <- function(obj, par) {
  opt <- nlminb(par, obj$fn, obj$gr, control = list(rel.tol = 1e-14, x.tol = 1e-14, eval.max = 1000, iter.max = 1000))
  par <- opt$par
  for (k in 1:10) {
    g <- obj$gr(par)
    if (max(abs(g)) < 1e-9) break
    par <- par - solve(optimHess(par, obj$fn, obj$gr), as.numeric(g))
  }
  list(par = par, objective = obj$fn(par), gradient = max(abs(obj$gr(par))))
}

fmt <- function(x) paste(format(x, digits = 17), collapse = " ")

versions <- sprintf("R %s, TMB %s, lme4 %s, glmmTMB %s", paste(R.version$major, R.version$minor, sep = "."),
                    packageVersion("TMB"), packageVersion("lme4"), packageVersion("glmmTMB"))

write_ref <- function(workload, lines) {
  path <- file.path(data_dir, paste0(workload, "_ref.txt"))
  header <- c(sprintf("# %s: reference numbers from bench/anchors/anchors.R (%s)", workload, versions),
              "# log_marginal: at the optimum; estimates, std: the fixed effects (sdreport);",
              "# given, given_log_marginal: one Laplace value at those fixed effects (the initial values)")
  writeLines(c(header, lines), path)
  cat(sprintf("wrote %s\n", path))
}

# A TMB model: compile (timed apart), then REPEATS times MakeADFun, one
# Laplace value at the initial values, and a whole fit (MakeADFun, nlminb,
# sdreport); the reference fit is polished with tight tolerances.
tmb_anchor <- function(workload, data, parameters, random) {
  file.copy(file.path(src_dir, paste0(workload, ".cpp")), build, overwrite = TRUE)
  cpp <- file.path(build, paste0(workload, ".cpp"))
  t <- system.time(compile(cpp, flags = "-O2", framework = "TMBad"))
  cat(sprintf("TIMING %s compile %.3f %.3f\n", workload, t[["user.self"]] + t[["sys.self"]] + t[["user.child"]] + t[["sys.child"]], t[["elapsed"]]))
  dyn.load(dynlib(file.path(build, workload)))
  make <- function() MakeADFun(data, parameters, random = random, DLL = workload, silent = TRUE)
  for (r in seq_len(reps)) {
    obj <- timing(workload, "MakeADFun", make())
    value <- timing(workload, "laplace_value", obj$fn(obj$par))
    fit <- timing(workload, "fit", {
      o <- make()
      opt <- nlminb(o$par, o$fn, o$gr)
      rep <- sdreport(o)
      list(obj = o, opt = opt, rep = rep)
    })
  }
  given <- make()$par
  given_value <- -make()$fn(given)
  o <- fit$obj
  opt <- polish(o, fit$opt$par)
  rep <- sdreport(o, par.fixed = opt$par)
  cat(sprintf("%s: timed fit -logLik %s, polished %s, max |gradient| %.3g\n", workload,
              format(fit$opt$objective, digits = 17), format(opt$objective, digits = 17), opt$gradient))
  write_ref(workload, c(paste("log_marginal", fmt(-opt$objective)),
                        paste("estimates", fmt(opt$par)),
                        paste("std", fmt(sqrt(diag(rep$cov.fixed)))),
                        paste("given", fmt(given)),
                        paste("given_log_marginal", fmt(given_value))))
}

if (only %in% c("all", "ar1_4d")) {
  y <- read_npy(file.path(data_dir, "ar1_4d_y.npy"))
  tmb_anchor("ar1_4d", list(y = y), list(theta = 0, eta = rep(0, length(y))), "eta")
}

if (only %in% c("all", "thetalog")) {
  y <- read_npy(file.path(data_dir, "thetalog_y.npy"))
  tmb_anchor("thetalog", list(y = y),
             list(logr0 = -1, logtheta = 0, logK = 4, logsdq = -2, logsdr = -2, X = y), "X")
}

if (only %in% c("all", "orange_big")) {
  y <- read_npy(file.path(data_dir, "orange_big_y.npy"))
  t <- read_npy(file.path(data_dir, "orange_big_t.npy"))
  tmb_anchor("orange_big", list(y = y, t = t),
             list(beta = c(200, 700, 300), log_sigma = 1, log_sigma_u = 2, u = rep(0, length(y) / length(t))), "u")
}

if (only %in% c("all", "poisson_glmm")) {
  wl <- "poisson_glmm"
  y <- read_npy(file.path(data_dir, "poisson_glmm_y.npy"))
  group <- read_npy(file.path(data_dir, "poisson_glmm_group.npy"))
  x1 <- read_npy(file.path(data_dir, "poisson_glmm_x1.npy"))
  x2 <- read_npy(file.path(data_dir, "poisson_glmm_x2.npy"))
  d <- data.frame(y = y, x1 = x1, x2 = x2[group + 1L], group = factor(group))
  for (r in seq_len(reps)) {
    g <- timing(wl, "glmmTMB_fit", glmmTMB(y ~ x1 + x2 + (1 | group), data = d, family = poisson))
    m <- timing(wl, "glmer_fit", glmer(y ~ x1 + x2 + (1 | group), data = d, family = poisson, nAGQ = 1))
  }
  o <- g$obj
  par0 <- g$fit$par
  opt <- polish(o, par0)
  rep <- sdreport(o, par.fixed = opt$par)
  cat(sprintf("%s: glmmTMB logLik %s, polished %s, max |gradient| %.3g, glmer logLik %s\n", wl,
              format(as.numeric(logLik(g)), digits = 17), format(-opt$objective, digits = 17),
              opt$gradient, format(as.numeric(logLik(m)), digits = 17)))
  given <- c(0.4, 0.2, -0.3, log(0.5))
  write_ref(wl, c(paste("log_marginal", fmt(-opt$objective)),
                  paste("estimates", fmt(opt$par)),
                  paste("std", fmt(sqrt(diag(rep$cov.fixed)))),
                  paste("given", fmt(given)),
                  paste("given_log_marginal", fmt(-o$fn(given))),
                  paste("glmer_log_lik", fmt(as.numeric(logLik(m)))),
                  paste("glmer_estimates", fmt(c(fixef(m), log(as.data.frame(VarCorr(m))$sdcor))))))
}

# InstEval by maximum likelihood, lme4 and glmmTMB. The reference optimum is
# glmmTMB's, polished; its fixed effects (beta, betad = log sigma^2, theta =
# log SDs of s, d, dept:service) are mapped to saddle's (intercept,
# service, log SD of s, d, dept:service, log sigma).
if (only %in% c("all", "instEval")) {
  wl <- "instEval"
  form <- y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept:service)
  for (r in seq_len(reps)) {
    m <- timing(wl, "lmer_fit", lmer(form, data = InstEval, REML = FALSE))
    g <- timing(wl, "glmmTMB_fit", glmmTMB(form, data = InstEval, REML = FALSE))
  }
  o <- g$obj
  opt <- polish(o, g$fit$par)
  rep <- sdreport(o, par.fixed = opt$par)
  if (abs(exp(opt$par[3] / 2) - sigma(g)) > 1e-3 * sigma(g)) stop("glmmTMB's betad is not log sigma^2")
  scale <- c(1, 1, 0.5, 1, 1, 1)
  to_saddle <- function(v) (v * scale)[c(1, 2, 4, 5, 6, 3)]
  from_saddle <- function(v) c(v[1], v[2], 2 * v[6], v[3], v[4], v[5])
  vc <- as.data.frame(VarCorr(m))
  lme4_est <- c(fixef(m), log(vc$sdcor[match(c("s", "d", "dept:service", "Residual"), vc$grp)]))
  est <- to_saddle(opt$par)
  cat(sprintf("%s: lmer logLik %s, glmmTMB logLik %s, polished %s, max |gradient| %.3g\n", wl,
              format(as.numeric(logLik(m)), digits = 17), format(as.numeric(logLik(g)), digits = 17),
              format(-opt$objective, digits = 17), opt$gradient))
  cat(sprintf("%s: lmer estimates - polished: %s\n", wl, fmt(lme4_est - est)))
  given <- c(3, 0, log(0.3), log(0.5), log(0.1), 0)
  write_ref(wl, c(paste("log_marginal", fmt(-opt$objective)),
                  paste("estimates", fmt(est)),
                  paste("std", fmt(to_saddle(sqrt(diag(rep$cov.fixed))))),
                  paste("given", fmt(given)),
                  paste("given_log_marginal", fmt(-o$fn(from_saddle(given)))),
                  paste("lmer_log_lik", fmt(as.numeric(logLik(m)))),
                  paste("lmer_estimates", fmt(lme4_est))))
}
