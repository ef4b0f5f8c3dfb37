use vaultgate::protected;

#[protected(roles = [])]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
