//! Misuse of `#[protected]` is a compile error spanned on the user's own tokens. Here, not
//! among the black-box tests: trybuild builds every dev-dependency of the crate it runs in,
//! and this crate's are only what the cases use.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p vaultgate-protected --test ui`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass_*.rs");
}
