use vaultgate::protected;

#[protected(role = "")]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
