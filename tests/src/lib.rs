//! Helpers for vaultgate's black-box tests: spawn the real server on port 0, mint and
//! forge tokens, and read answers as status + headers + JSON.

pub mod app;
pub mod azure;
pub mod expected;
pub mod fake_entra;
pub mod fake_flaky;
pub mod fake_identity;
pub mod fake_keyvault;
pub mod fake_proxy;
pub mod fake_tls;
pub mod http;
pub mod https;
pub mod logs;
pub mod openapi;
pub mod recorder;
pub mod redis_server;
pub mod signing;
pub mod tokens;

pub use app::TestApp;
pub use http::{Reply, send};

// Compiles docs/PROTECTING.md's Rust example, so the documented way to protect a handler stays true.
#[doc = include_str!("../../docs/PROTECTING.md")]
#[cfg(doctest)]
pub struct ProtectingDoctests;
