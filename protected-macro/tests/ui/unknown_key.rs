use vaultgate::protected;

#[protected(rol = "GetSecret")]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
