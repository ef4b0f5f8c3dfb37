//! Slow and greedy clients: a slowloris crowd does not keep others from being served, its
//! connections are cut at the header read timeout, and oversized headers are refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use vaultgate_tests::http::client;
use vaultgate_tests::{TestApp, send};

/// Opens a connection that sends half a request head, then nothing more.
fn slowloris(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1").unwrap();
    stream
}

#[actix_web::test]
async fn slowloris_connections_neither_block_others_nor_stay_open() {
    let app = TestApp::spawn_with(&[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let port = app.port;
    assert_eq!(send(client().get(app.url("/health"))).await.status, 200, "the server is accepting");
    let crowd: Vec<TcpStream> = (0..200).map(|_| slowloris(port)).collect();

    let started = Instant::now();
    let answer = send(client().get(app.url("/health"))).await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() < Duration::from_secs(1), "served while 200 slow clients hang: {:?}", started.elapsed());

    // The server answers a stalled head with 408 and closes, within the read timeout (plus slack).
    let outcome = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = crowd.into_iter().next().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        (read.is_ok(), String::from_utf8_lossy(&answer).into_owned(), Instant::now())
    })
    .await
    .unwrap();
    let (closed, answer, at) = outcome;
    assert!(closed, "the connection was not closed within 10 s");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(at.duration_since(started) < Duration::from_secs(10));
}

#[actix_web::test]
async fn oversized_headers_are_refused_with_431() {
    let app = TestApp::spawn_with(&[("MAX_HEADER_BYTES", "4096")]).await;
    let request = client().get(app.url("/health")).insert_header(("X-Padding", "p".repeat(5000)));
    let answer = send(request).await;
    assert_eq!(answer.status, 431);
    assert_eq!(
        answer.json(),
        json!({"code": "RequestHeadersTooLarge", "description": "Request headers are too large."})
    );
    assert_eq!(send(client().get(app.url("/health"))).await.status, 200);
}
