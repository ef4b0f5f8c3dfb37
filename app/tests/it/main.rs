//! The binary itself, run as a process: exit codes, signals, logs, `vaultgate check` and the
//! commands; one test binary, so the app links once.

mod cli;
mod common;
#[cfg(unix)]
mod dev_cert;
#[cfg(unix)]
mod dev_key;
mod developer_credential;
mod hygiene;
mod network;
mod operations;
