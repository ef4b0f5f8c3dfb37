use vaultgate::protected;

#[protected(role_from = "EVENT_GRID_ROLE")]
async fn handler() -> &'static str {
    "event"
}

fn main() {}
