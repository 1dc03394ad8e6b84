// Separable AR(1) Gaussian field on an 8^4 lattice with Poisson counts.
// eta ~ N(0, Q^-1), Q the Kronecker product of four precisions of a
// unit-variance AR(1) with coefficient phi = tanh(theta), so that
// -log N(eta) = |W eta|^2 / 2 - log det(Q) / 2 + 2048 log(2 pi), where W
// applies x_t -> (x_t - phi x_{t-1}) / sqrt(1 - phi^2) (t > 0) along each
// axis in turn and log det(Q) = -4 * 8^3 * 7 * log(1 - phi^2).
#include <TMB.hpp>

template <class Type>
Type objective_function<Type>::operator()() {
  DATA_VECTOR(y);         // counts, row-major over the lattice
  PARAMETER(theta);       // phi = tanh(theta)
  PARAMETER_VECTOR(eta);  // the field, row-major over the lattice
  const int side = 8;
  Type phi = tanh(theta);
  Type one_minus = Type(1) - phi * phi;
  Type scale = Type(1) / sqrt(one_minus);
  vector<Type> w = eta;
  int stride = side * side * side;
  for (int axis = 0; axis < 4; axis++) {
    vector<Type> v = w;
    for (int i = 0; i < w.size(); i++) {
      if ((i / stride) % side > 0) v(i) = (w(i) - phi * w(i - stride)) * scale;
    }
    w = v;
    stride /= side;
  }
  Type nll = Type(0.5) * (w * w).sum() + Type(7168) * log(one_minus) + Type(2048) * log(Type(2 * M_PI));
  for (int i = 0; i < y.size(); i++) nll -= dpois(y(i), exp(eta(i)), true);
  return nll;
}
