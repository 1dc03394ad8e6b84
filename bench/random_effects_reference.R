# Reference numbers for crates/laplace/tests/random_effects.rs from lme4
# and glmmTMB (maximum likelihood; glmer with nAGQ = 1 and glmmTMB are
# Laplace's approximation; glmmTMB's value is TMB's, which saddle computes).
# Writes the data sets as whitespace-separated columns under
# crates/laplace/tests/data/ and prints the numbers the tests hold.
# Run from the repository root: Rscript bench/random_effects_reference.R
suppressPackageStartupMessages(library(lme4))
out <- "crates/laplace/tests/data"
options(digits = 17)

s <- sleepstudy
g <- as.integer(s$Subject) - 1L
write.table(data.frame(days = s$Days, group = g, reaction = s$Reaction),
            file.path(out, "sleepstudy.txt"), row.names = FALSE, col.names = FALSE)
m <- lmer(Reaction ~ Days + (1 | Subject), data = s, REML = FALSE)
vc <- as.data.frame(VarCorr(m))
cat("sleepstudy logLik", format(as.numeric(logLik(m)), digits = 17), "\n")
cat("sleepstudy fixef", format(fixef(m), digits = 17), "\n")
cat("sleepstudy sd_subject sd_residual", format(vc$sdcor, digits = 17), "\n")

c <- cbpp
h <- as.integer(c$herd) - 1L
write.table(data.frame(period = as.integer(c$period) - 1L, herd = h, incidence = c$incidence, size = c$size),
            file.path(out, "cbpp.txt"), row.names = FALSE, col.names = FALSE)
b <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = c, family = binomial, nAGQ = 1)
cat("cbpp logLik", format(as.numeric(logLik(b)), digits = 17), "\n")
cat("cbpp fixef", format(fixef(b), digits = 17), "\n")
cat("cbpp sd_herd", format(as.data.frame(VarCorr(b))$sdcor, digits = 17), "\n")
suppressPackageStartupMessages(library(glmmTMB))
t <- glmmTMB(cbind(incidence, size - incidence) ~ period + (1 | herd), data = c, family = binomial)
cat("cbpp glmmTMB logLik", format(as.numeric(logLik(t)), digits = 17), "\n")
cat("cbpp glmmTMB fixef", format(fixef(t)$cond, digits = 17), "\n")
cat("cbpp glmmTMB sd_herd", format(sqrt(VarCorr(t)$cond$herd[1]), digits = 17), "\n")
cat("cbpp sum_lchoose", format(sum(lchoose(c$size, c$incidence)), digits = 17), "\n")
