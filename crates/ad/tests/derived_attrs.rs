//! Attributes that derivative rules compute from the primal's (`y - 1` of
//! `integer_pow`, `n + 1` of `polygamma`) never wrap: at the ends of their
//! ranges they take another exact form or are refused with an error.

use saddle_ir::op::MAX_POLYGAMMA_ORDER;
use saddle_ir::{parse_func, print_func, verify};

fn pow(y: i64) -> saddle_ir::Func {
    parse_func("f.sir", &format!("func @f(%x: f64[]) -> f64[] {{\n  %y = integer_pow %x {{y = {y}}}\n  return %y\n}}"))
        .unwrap()
}

#[test]
fn integer_pow_exponents_do_not_wrap() {
    for y in [i32::MIN as i64, i32::MIN as i64 + 1, i32::MAX as i64] {
        for g in [saddle_ad::grad(&pow(y), 0).unwrap(), saddle_ad::hessian(&pow(y), 0).unwrap()] {
            verify(&g).unwrap();
            let text = print_func(&g);
            for line in text.lines().filter(|l| l.contains("integer_pow")) {
                let e: i64 = line.rsplit("y = ").next().unwrap().trim_end_matches('}').parse().unwrap();
                assert!(e <= y, "y = {y} differentiates to exponent {e}:\n{text}");
            }
        }
    }
}

#[test]
fn polygamma_orders_stop_cleanly() {
    let f = |n: u32| {
        parse_func(
            "f.sir",
            &format!("func @f(%x: f64[]) -> f64[] {{\n  %y = polygamma %x {{n = {n}}}\n  return %y\n}}"),
        )
        .unwrap()
    };
    let g = saddle_ad::grad(&f(MAX_POLYGAMMA_ORDER - 1), 0).unwrap();
    assert!(print_func(&g).contains(&format!("n = {MAX_POLYGAMMA_ORDER}")));
    let e = saddle_ad::grad(&f(MAX_POLYGAMMA_ORDER), 0).unwrap_err();
    assert!(e.to_string().contains("polygamma"), "{e}");
}
