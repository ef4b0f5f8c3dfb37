use vaultgate::protected;

#[protected(scope = "Secrets.Read User.Read")]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
