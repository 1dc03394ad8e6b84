//! The parser and the verifier on any bytes: random bytes and text,
//! mutations of valid files (the examples and generated functions) never
//! panic; whatever parses verifies and prints to text that parses back to
//! the same module.
//!
//! `SADDLE_FUZZ_CASES` sets the number of cases of each property (default
//! 2000, a few seconds); long runs set it in the millions, in release:
//! `SADDLE_FUZZ_CASES=1000000 cargo test --release -p saddle-ir --test fuzz`.

use proptest::prelude::*;
use saddle_ir::testing::{GenOptions, random_func};
use saddle_ir::{Module, parse_module_bytes, print_module, verify};

/// The example modules of the repository.
const SEEDS: [&str; 2] =
    [include_str!("../../../examples/sir/student_t.sir"), include_str!("../../../examples/sir/logistic.sir")];

/// Tokens a mutation may splice in: punctuation, types, numbers at the
/// edges of their ranges, op and attribute names.
const PIECES: [&str; 32] = [
    "%",
    "@",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "=",
    "->",
    "f64[2]",
    "-inf",
    "1e999",
    "#",
    "i32[0,3]",
    "9223372036854775808",
    "-2147483648",
    "281474976710657",
    "[[",
    "]]",
    "nan",
    " const ",
    " slice ",
    "{stride = [0]}",
    "polygamma",
    "{n = 1025}",
    "\u{e9}",
    "\n",
    "return",
    "%x",
];

fn config() -> ProptestConfig {
    let cases = std::env::var("SADDLE_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Parses `bytes`; when that succeeds, every function verifies and the
/// printed module parses back to the same text.
fn check(bytes: &[u8]) {
    let Ok(m) = parse_module_bytes("fuzz.sir", bytes) else { return };
    for f in &m.funcs {
        if let Err(e) = verify(f) {
            panic!("a parsed function does not verify: {e}\n{}", String::from_utf8_lossy(bytes));
        }
    }
    round_trip(&m);
}

fn round_trip(m: &Module) {
    let text = print_module(m);
    let again = parse_module_bytes("printed.sir", text.as_bytes())
        .unwrap_or_else(|e| panic!("printed text does not parse: {e}\n{text}"));
    assert_eq!(print_module(&again), text);
}

/// A valid module's text: an example, or a generated function.
fn seed_text(which: usize, seed: u64) -> String {
    match which {
        0 | 1 => SEEDS[which].to_string(),
        _ => {
            print_module(&Module::new(vec![random_func(seed, &GenOptions { max_insts: 12, ..GenOptions::default() })]))
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        check(text.as_bytes());
    }

    #[test]
    fn mutations_never_panic(
        which in 0usize..4,
        seed in any::<u64>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..5, any::<u8>(), 0usize..PIECES.len()), 1..6),
    ) {
        let mut bytes = seed_text(which, seed).into_bytes();
        for (at, kind, byte, piece) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 => { bytes.insert(i, byte); }
                1 if i < bytes.len() => { bytes.remove(i); }
                2 if i < bytes.len() => { bytes[i] = byte; }
                3 if i < bytes.len() => {
                    // Swap one digit for another: numbers stay numbers.
                    if bytes[i].is_ascii_digit() { bytes[i] = b'0' + byte % 10; }
                }
                _ => { bytes.splice(i..i, PIECES[piece].bytes()); }
            }
        }
        check(&bytes);
    }

    #[test]
    fn generated_functions_round_trip(seed in any::<u64>(), n in 1usize..30) {
        let f = random_func(seed, &GenOptions { max_insts: n, ..GenOptions::default() });
        verify(&f).unwrap();
        round_trip(&Module::new(vec![f]));
    }
}

#[test]
fn every_prefix_of_a_valid_file_is_handled() {
    for seed in SEEDS {
        for end in 0..seed.len() {
            if !seed.is_char_boundary(end) {
                continue;
            }
            let r = parse_module_bytes("prefix.sir", &seed.as_bytes()[..end]);
            if end < seed.trim_end().len() {
                assert!(r.is_err(), "a truncated file parsed: {end} bytes");
            }
        }
    }
}
