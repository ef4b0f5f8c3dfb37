use vaultgate::protected;

#[protected(role = ["Reader", "Writer"])]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
