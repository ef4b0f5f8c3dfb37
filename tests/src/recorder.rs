//! A loopback server that answers anything and counts what it was asked: proof that
//! vaultgate never follows a URL an attacker put in a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};

pub struct Recorder {
    pub base_url: String,
    hits: Arc<AtomicUsize>,
}

impl Recorder {
    pub fn start() -> Recorder {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = web::Data::from(hits.clone());
        let server = HttpServer::new(move || {
            App::new().app_data(counter.clone()).default_service(web::to(|hits: web::Data<AtomicUsize>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                HttpResponse::Ok().json(serde_json::json!({"keys": []}))
            }))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("a free loopback port");
        let base_url = format!("http://{}", server.addrs()[0]);
        actix_web::rt::spawn(server.run());
        Recorder { base_url, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
