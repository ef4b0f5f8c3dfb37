use vaultgate::protected;

#[protected(role = "GetSecret")]
fn handler() -> &'static str {
    "secret"
}

fn main() {}
