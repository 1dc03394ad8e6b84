// Theta-logistic state-space model on the log scale, flat on X[0]:
// X[t] ~ N(X[t-1] + r0 (1 - exp(theta (X[t-1] - log K))), sdq^2),
// y[t] ~ N(X[t], sdr^2).
#include <TMB.hpp>

template <class Type>
Type objective_function<Type>::operator()() {
  DATA_VECTOR(y);
  PARAMETER(logr0);
  PARAMETER(logtheta);
  PARAMETER(logK);
  PARAMETER(logsdq);
  PARAMETER(logsdr);
  PARAMETER_VECTOR(X);
  Type r0 = exp(logr0), theta = exp(logtheta), sdq = exp(logsdq), sdr = exp(logsdr);
  Type nll = 0;
  for (int t = 1; t < X.size(); t++) {
    Type mean = X(t - 1) + r0 * (Type(1) - exp(theta * (X(t - 1) - logK)));
    nll -= dnorm(X(t), mean, sdq, true);
  }
  for (int t = 0; t < y.size(); t++) nll -= dnorm(y(t), X(t), sdr, true);
  return nll;
}
