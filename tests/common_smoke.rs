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

#[test]
fn scratch_dirs_are_removed_on_drop() {
    let dir = common::scratch_dir("smoke");
    let path = dir.path().to_path_buf();
    std::fs::write(path.join("f.txt"), "x").unwrap();
    assert!(path.file_name().unwrap().to_string_lossy().starts_with("saddle-smoke-"));
    drop(dir);
    assert!(!path.exists(), "{} was left behind", path.display());
}
