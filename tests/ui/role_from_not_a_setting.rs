use vaultgate::protected;

#[protected(role_from = "event grid role")]
async fn handler() -> &'static str {
    "event"
}

fn main() {}
