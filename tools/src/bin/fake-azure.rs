//! Serves a fake Key Vault and its token endpoints on loopback until stopped, for the
//! benchmark and for trying Key Vault mode by hand. Prints the variables that point
//! vaultgate at them, then waits.
//!
//! `cargo run -p vaultgate-tools --bin fake-azure -- [SECRET=VALUE]...`

use vaultgate_tests::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret};

const VERSION: &str = "41cce6796d81438f9dad0d96bf85d50d";

#[actix_web::main]
async fn main() {
    let identity = FakeIdentity::start();
    let vault = FakeKeyVault::start(identity.issued(), false);
    let mut secrets: Vec<(String, String)> =
        std::env::args().skip(1).filter_map(|a| a.split_once('=').map(|(n, v)| (n.to_owned(), v.to_owned()))).collect();
    if secrets.is_empty() {
        secrets.push(("demo".into(), "hello from the fake vault".into()));
    }
    for (name, value) in &secrets {
        vault.put(name, FakeSecret::new(VERSION, value));
    }
    // One write, so a reader waiting for the lines sees them all at once. VAULTGATE_MODE:
    // a local-mode vaultgate would otherwise refuse to start beside IDENTITY_ENDPOINT.
    print!(
        "KEY_VAULT_URL={}\nIDENTITY_ENDPOINT={}/msi/token\nIDENTITY_HEADER={IDENTITY_HEADER}\nVAULTGATE_MODE=local\n",
        vault.url, identity.base_url
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = actix_web::rt::signal::ctrl_c().await;
}
