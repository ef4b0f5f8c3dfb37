//! Misuse of `#[protected]` is a compile error spanned on the user's own tokens.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p vaultgate-tests --test it macro_ui::`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("ui/pass_*.rs");
}
