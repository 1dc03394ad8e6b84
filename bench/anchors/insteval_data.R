# Exports lme4's InstEval (73,421 ratings of lecturers by students) as
# .npy files for the instEval anchor, under crates/laplace/tests/data/anchors/:
#   instEval_y.npy        f64[73421]  rating, 1..5
#   instEval_service.npy  i32[73421]  0/1: the lecture is a service course
#   instEval_s.npy        i32[73421]  student, 0..2971
#   instEval_d.npy        i32[73421]  lecturer, 0..1127
#   instEval_ds.npy       i32[73421]  department x service, 0..27
# (0-based level indices of the factors, in the factors' level order).
# Run from the repository root: Rscript bench/anchors/insteval_data.R
suppressPackageStartupMessages(library(lme4))
data_dir <- "crates/laplace/tests/data/anchors"

write_npy <- function(path, values, dtype) {
  descr <- c(f8 = "<f8", i4 = "<i4")[[dtype]]
  header <- sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }", descr, length(values))
  pad <- (64 - (10 + nchar(header) + 1) %% 64) %% 64
  header <- paste0(header, strrep(" ", pad), "\n")
  con <- file(path, "wb")
  on.exit(close(con))
  writeBin(as.raw(c(0x93, charToRaw("NUMPY"), 1, 0)), con)
  writeBin(as.integer(nchar(header)), con, size = 2, endian = "little")
  writeBin(charToRaw(header), con)
  if (dtype == "f8") {
    writeBin(as.double(values), con, size = 8, endian = "little")
  } else {
    writeBin(as.integer(values), con, size = 4, endian = "little")
  }
  cat(sprintf("wrote %s\n", path))
}

d <- InstEval
level <- function(f) as.integer(f) - 1L
ds <- interaction(d$dept, d$service, drop = TRUE, sep = ":")
write_npy(file.path(data_dir, "instEval_y.npy"), d$y, "f8")
write_npy(file.path(data_dir, "instEval_service.npy"), level(d$service), "i4")
write_npy(file.path(data_dir, "instEval_s.npy"), level(d$s), "i4")
write_npy(file.path(data_dir, "instEval_d.npy"), level(d$d), "i4")
write_npy(file.path(data_dir, "instEval_ds.npy"), level(ds), "i4")
cat(sprintf("levels: s %d, d %d, dept:service %d\n", nlevels(d$s), nlevels(d$d), nlevels(ds)))
