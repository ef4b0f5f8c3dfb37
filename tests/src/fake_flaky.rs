//! A loopback TCP front that drops its first connections unanswered and relays the rest to
//! a target (the fake Key Vault): connection errors on demand, as a flaky network gives them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::rt::net::{TcpListener, TcpStream};

pub struct FlakyFront {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    dropped: Arc<AtomicUsize>,
}

impl FlakyFront {
    /// Drops the first `drop_first` connections, then relays to `target` (`http://host:port`).
    pub fn start(target: &str, drop_first: usize) -> FlakyFront {
        let target = target.strip_prefix("http://").expect("a loopback http URL").to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let dropped = Arc::new(AtomicUsize::new(0));
        let counter = dropped.clone();
        actix_web::rt::spawn(async move {
            let listener = TcpListener::from_std(listener).expect("a tokio listener");
            while let Ok((mut inbound, _)) = listener.accept().await {
                if counter.load(Ordering::SeqCst) < drop_first {
                    counter.fetch_add(1, Ordering::SeqCst);
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                actix_web::rt::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        FlakyFront { url, dropped }
    }

    /// Connections dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}
