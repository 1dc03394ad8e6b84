//! The shared test helpers load every case.
mod common;

#[test]
fn every_case_parses_and_verifies() {
    let cases = common::cases();
    assert!(cases.len() >= 2);
    for (name, m) in &cases {
        saddle::ir::verify_module(m).unwrap_or_else(|e| panic!("{name}: {e}"));
        let f = &m.funcs[0];
        assert!(f.result_types()[0].is_scalar(), "{name}: first result must be a scalar");
        let inputs = common::random_inputs(f.param_types(), 1);
        assert_eq!(inputs.len(), f.num_params());
    }
}
