use vaultgate::protected;

#[protected]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
