//! The development key on disk, as the binary treats it: a key file others could read or
//! change stops start-up, and `vaultgate token`, with a clear message.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{ExitStatus, Stdio};

use crate::common::vaultgate;
use vaultgate::auth::dev_key::KEY_FILE;

#[test]
fn a_key_file_others_may_read_stops_start_up_and_the_token_command() {
    let key_dir = tempfile::tempdir().unwrap();
    let minted = vaultgate(key_dir.path()).args(["token", "--role", "GetSecret"]).output().unwrap();
    assert!(minted.status.success(), "{}", String::from_utf8_lossy(&minted.stderr));
    let path = key_dir.path().join(KEY_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let (status, stderr) = serve_until_exit(key_dir.path());
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("group or others"), "{stderr}");

    let minted = vaultgate(key_dir.path()).args(["token", "--role", "GetSecret"]).output().unwrap();
    assert!(!minted.status.success());
    assert!(minted.stdout.is_empty(), "no token from an exposed key");
    assert!(String::from_utf8_lossy(&minted.stderr).contains(&format!("chmod 600 {}", path.display())));
}

/// Runs the server until it exits on its own, reading its log; a server that starts serving
/// is stopped and the test fails.
fn serve_until_exit(key_dir: &std::path::Path) -> (ExitStatus, String) {
    let mut child = vaultgate(key_dir).env("PORT", "0").stderr(Stdio::piped()).spawn().unwrap();
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok) {
        if line.contains("serves in local mode") {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the server started with a key others may read:\n{log}{line}");
        }
        log.push_str(&line);
        log.push('\n');
    }
    (child.wait().unwrap(), log)
}
