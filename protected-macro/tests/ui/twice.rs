use vaultgate::protected;

#[protected(role = "GetSecret")]
#[protected(role = "Admin")]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
