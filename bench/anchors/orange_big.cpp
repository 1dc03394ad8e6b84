// Orange-tree growth at scale: a logistic curve per tree whose asymptote
// varies between trees, 5,000 trees observed at the same 7 ages
// (simulated by bench/anchors/make_data.py):
//   y[i, j] ~ N((beta0 + u[i]) / (1 + exp(-(t[j] - beta1) / beta2)), sigma^2),
//   u[i] ~ N(0, sigma_u^2).
#include <TMB.hpp>

template <class Type>
Type objective_function<Type>::operator()() {
  DATA_VECTOR(y);  // tree-major: y[i * T + j] is tree i at age t[j]
  DATA_VECTOR(t);
  PARAMETER_VECTOR(beta);  // asymptote, age at half of it, time scale
  PARAMETER(log_sigma);
  PARAMETER(log_sigma_u);
  PARAMETER_VECTOR(u);
  int T = t.size();
  Type sigma = exp(log_sigma);
  Type sigma_u = exp(log_sigma_u);
  Type nll = -sum(dnorm(u, Type(0), sigma_u, true));
  for (int i = 0; i < u.size(); i++) {
    for (int j = 0; j < T; j++) {
      Type f = (beta[0] + u[i]) / (Type(1) + exp(-(t[j] - beta[1]) / beta[2]));
      nll -= dnorm(y[i * T + j], f, sigma, true);
    }
  }
  return nll;
}
