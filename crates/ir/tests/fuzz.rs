//! Random bytes and mutations of valid files never panic (or hang) the parser.

use proptest::prelude::*;
use saddle_ir::parse_module_bytes;

const SEED: &str = include_str!("../../../examples/sir/student_t.sir");

/// Tokens a mutation may splice in.
const PIECES: [&str; 16] =
    ["%", "@", "[", "]", "{", "}", "(", ")", ",", ":", "=", "->", "f64[2]", "-inf", "1e999", "#"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_module_bytes("fuzz.sir", &bytes);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        let _ = parse_module_bytes("fuzz.sir", text.as_bytes());
    }

    #[test]
    fn mutations_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>(), 0usize..16), 1..6)) {
        let mut bytes = SEED.as_bytes().to_vec();
        for (at, kind, byte, piece) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 => { bytes.insert(i, byte); }
                1 if i < bytes.len() => { bytes.remove(i); }
                2 if i < bytes.len() => { bytes[i] = byte; }
                _ => { bytes.splice(i..i, PIECES[piece].bytes()); }
            }
        }
        let _ = parse_module_bytes("fuzz.sir", &bytes);
    }
}

#[test]
fn every_prefix_of_a_valid_file_is_handled() {
    for end in 0..SEED.len() {
        if !SEED.is_char_boundary(end) {
            continue;
        }
        let r = parse_module_bytes("prefix.sir", &SEED.as_bytes()[..end]);
        if end < SEED.trim_end().len() {
            assert!(r.is_err(), "a truncated file parsed: {end} bytes");
        }
    }
}
