//! Reference elementwise ops: one scalar function per element.

use ndarray::{ArrayD, Zip};
use saddle_ir::op::{Binary, Compare, Unary};
use saddle_ir::{Array, DType};

use super::{At, float, internal, numeric, same};
use crate::Error;
use crate::scalar::{CastTo, Elem, Float, Num};

pub(super) fn unary(u: Unary, x: &Array) -> Result<Array, Error> {
    Ok(match u {
        Unary::Neg => numeric!(x, a => a.mapv(Num::neg).into()),
        Unary::Abs => numeric!(x, a => a.mapv(Num::abs).into()),
        Unary::Sign => numeric!(x, a => a.mapv(Num::sign).into()),
        Unary::IntegerPow { y } => numeric!(x, a => a.mapv(|v| Num::ipow(v, y)).into()),
        Unary::Exp => float!(x, a => a.mapv(Float::exp).into()),
        Unary::Log => float!(x, a => a.mapv(Float::ln).into()),
        Unary::Log1p => float!(x, a => a.mapv(Float::ln_1p).into()),
        Unary::Expm1 => float!(x, a => a.mapv(Float::exp_m1).into()),
        Unary::Sin => float!(x, a => a.mapv(Float::sin).into()),
        Unary::Cos => float!(x, a => a.mapv(Float::cos).into()),
        Unary::Tanh => float!(x, a => a.mapv(Float::tanh).into()),
        Unary::Logistic => float!(x, a => a.mapv(Float::logistic).into()),
        Unary::Sqrt => float!(x, a => a.mapv(Float::sqrt).into()),
        Unary::Rsqrt => float!(x, a => a.mapv(Float::rsqrt).into()),
        Unary::Lgamma => float!(x, a => a.mapv(Float::lgamma).into()),
        Unary::Digamma => float!(x, a => a.mapv(Float::digamma).into()),
        Unary::Erf => float!(x, a => a.mapv(Float::erf).into()),
        Unary::Polygamma { n } => float!(x, a => a.mapv(|v| Float::polygamma(v, n)).into()),
        Unary::Not => match x {
            Array::Bool(a) => a.mapv(|v| !v).into(),
            _ => return Err(internal("not on non-bool data")),
        },
    })
}

fn zip2<T: Elem, U: Elem>(x: &ArrayD<T>, y: &ArrayD<T>, mut f: impl FnMut(T, T) -> U) -> ArrayD<U> {
    Zip::from(x).and(y).map_collect(|&a, &b| f(a, b))
}

fn divide<T: Num>(x: &ArrayD<T>, y: &ArrayD<T>, at: &At) -> Result<Array, Error> {
    let mut zero = false;
    let out = zip2(x, y, |a, b| match Num::div(a, b) {
        Some(q) => q,
        None => {
            zero = true;
            T::zero()
        }
    });
    if zero {
        return Err(Error::DivisionByZero { op: "div", at: at.name() });
    }
    Ok(T::wrap(out))
}

pub(super) fn binary(b: Binary, x: &Array, y: &Array, at: &At) -> Result<Array, Error> {
    Ok(match b {
        Binary::Add => numeric!(x, a => zip2(a, same(y)?, Num::add).into()),
        Binary::Sub => numeric!(x, a => zip2(a, same(y)?, Num::sub).into()),
        Binary::Mul => numeric!(x, a => zip2(a, same(y)?, Num::mul).into()),
        Binary::Div => numeric!(x, a => divide(a, same(y)?, at)?),
        Binary::Max => numeric!(x, a => zip2(a, same(y)?, Num::max).into()),
        Binary::Min => numeric!(x, a => zip2(a, same(y)?, Num::min).into()),
        Binary::Pow => float!(x, a => zip2(a, same(y)?, Float::pow).into()),
        Binary::And | Binary::Or => match (x, y) {
            (Array::Bool(a), Array::Bool(c)) => {
                if b == Binary::And {
                    zip2(a, c, |p, q| p & q).into()
                } else {
                    zip2(a, c, |p, q| p | q).into()
                }
            }
            _ => return Err(internal("logical op on non-bool data")),
        },
    })
}

pub(super) fn compare(c: Compare, x: &Array, y: &Array) -> Result<Array, Error> {
    fn cmp<T: Elem>(c: Compare, a: &ArrayD<T>, b: &ArrayD<T>) -> Array {
        Array::Bool(match c {
            Compare::Eq => zip2(a, b, |p, q| p == q),
            Compare::Ne => zip2(a, b, |p, q| p != q),
            Compare::Lt => zip2(a, b, |p, q| p < q),
            Compare::Le => zip2(a, b, |p, q| p <= q),
            Compare::Gt => zip2(a, b, |p, q| p > q),
            Compare::Ge => zip2(a, b, |p, q| p >= q),
        })
    }
    Ok(saddle_ir::with_array!(x, a => cmp(c, a, same(y)?)))
}

pub(super) fn select(pred: &Array, t: &Array, f: &Array) -> Result<Array, Error> {
    let Array::Bool(p) = pred else {
        return Err(internal("select predicate is not bool"));
    };
    fn sel<T: Elem>(p: &ArrayD<bool>, t: &ArrayD<T>, f: &ArrayD<T>) -> Array {
        T::wrap(Zip::from(p).and(t).and(f).map_collect(|&c, &a, &b| if c { a } else { b }))
    }
    Ok(saddle_ir::with_array!(t, a => sel(p, a, same(f)?)))
}

pub(super) fn convert(x: &Array, dtype: DType) -> Array {
    macro_rules! to {
        ($a:expr) => {
            match dtype {
                DType::F32 => Array::F32($a.mapv(CastTo::<f32>::cast)),
                DType::F64 => Array::F64($a.mapv(CastTo::<f64>::cast)),
                DType::I32 => Array::I32($a.mapv(CastTo::<i32>::cast)),
                DType::I64 => Array::I64($a.mapv(CastTo::<i64>::cast)),
                DType::Bool => Array::Bool($a.mapv(CastTo::<bool>::cast)),
            }
        };
    }
    saddle_ir::with_array!(x, a => to!(a))
}
