use vaultgate::protected;

#[protected(role = "Reader", all_roles = ["Reader", "Auditor"])]
async fn handler() -> &'static str {
    "secret"
}

fn main() {}
