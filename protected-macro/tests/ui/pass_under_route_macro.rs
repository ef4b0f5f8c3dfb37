use actix_web::{HttpResponse, get, web};
use vaultgate::{Caller, protected};

#[get("/vault/{name}")]
#[protected(role = "GetSecret")]
async fn read(name: web::Path<String>, caller: Caller) -> HttpResponse {
    HttpResponse::Ok().body(format!("{} for {:?}", name.into_inner(), caller.oid))
}

#[protected(roles = ["A", "B"], scopes = ["S"])]
pub async fn plain(caller: Caller) -> String {
    format!("{:?}", caller.roles)
}

fn main() {
    let _ = actix_web::App::new().service(read).route("/plain", web::get().to(plain));
}
