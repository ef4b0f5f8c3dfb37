//! The official Rust Key Vault client (`azure_security_keyvault_secrets`) reading through
//! vaultgate over vaultgate's own TLS, as an application does once its vault URL names
//! vaultgate: the client's first request goes without a token, it asks its credential for the
//! challenge's `<resource>/.default` (its resource check on: vaultgate's host is a subdomain of
//! the resource's), and reads, lists and pages exactly as against Key Vault.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, StatusCode, Transport};
use azure_core::time::{Duration, OffsetDateTime};
use azure_security_keyvault_secrets::models::{
    SecretClientGetSecretOptions, SecretClientListSecretPropertiesOptions,
    SecretClientListSecretPropertiesVersionsOptions, SetSecretParameters,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures_util::TryStreamExt;
use serde_json::json;
use vaultgate_tests::app::extra_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::fake_identity::IDENTITY_HEADER;
use vaultgate_tests::fake_keyvault::{FakeSecret, Paging};
use vaultgate_tests::https::{TlsFiles, valid_now};
use vaultgate_tests::signing::TestKey;
use vaultgate_tests::tokens::{entra, entra_header};
use vaultgate_tests::{TestApp, send};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5";
/// vaultgate's host, a subdomain of the Application ID URI's, as the clients' resource check wants.
const HOST: &str = "vaultgate.contoso.test";
const RESOURCE: &str = "https://contoso.test/vaultgate";

/// A credential minting Entra v2 tokens for whatever scope the client asks, as
/// `DefaultAzureCredential` would get them, with these roles; it remembers the scopes asked.
struct MintingCredential {
    key: &'static TestKey,
    roles: &'static [&'static str],
    oid: &'static str,
    asked: Mutex<Vec<String>>,
}

impl std::fmt::Debug for MintingCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintingCredential").field("roles", &self.roles).finish()
    }
}

impl MintingCredential {
    fn new(roles: &'static [&'static str], oid: &'static str) -> Arc<MintingCredential> {
        Arc::new(MintingCredential { key: extra_key(0), roles, oid, asked: Mutex::new(Vec::new()) })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

#[async_trait]
impl TokenCredential for MintingCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.asked.lock().unwrap().extend(scopes.iter().map(|s| s.to_string()));
        let (header, mut claims) = entra(2);
        claims["aud"] = json!(scopes[0].trim_end_matches("/.default"));
        claims["roles"] = json!(self.roles);
        claims["oid"] = json!(self.oid);
        let token = self.key.sign_with_header(&entra_header(&header, self.key), &claims);
        Ok(AccessToken::new(Secret::new(token), OffsetDateTime::now_utc() + Duration::hours(1)))
    }
}

/// Entra ID, the vault (`Db-Password` in two versions, `api-key`, `hidden-one`), and vaultgate
/// in Azure mode serving HTTPS for `HOST` with the Application ID URI first among its audiences.
struct Setup {
    _entra: FakeEntra,
    azure: Azure,
    tls: TlsFiles,
    app: TestApp,
}

async fn setup() -> Setup {
    let entra = FakeEntra::start(&[extra_key(0)]);
    let azure = Azure::start();
    azure.vault.put("Db-Password", FakeSecret::new(V1, "old-value"));
    azure.vault.put("Db-Password", FakeSecret::new(V2, "new-value"));
    azure.vault.put("api-key", FakeSecret::new(V1, "api-key-value"));
    azure.vault.put("hidden-one", FakeSecret::new(V1, "hidden-value"));
    azure.vault.page_list(Paging { page_size: 2, ..Paging::default() });
    let tls = TlsFiles::new();
    let pair = tls.ca.issue_pem(&[HOST, "127.0.0.1"], valid_now());
    tls.mount(&pair.cert_pem, &pair.key_pem);
    let endpoint = format!("{}/msi/token", azure.identity.base_url);
    let audiences = format!("{RESOURCE},api://{APP_ID},{APP_ID}");
    let app = TestApp::spawn_https_with(
        &tls,
        &[
            ("TENANT_ID", TENANT),
            ("AD_SERVER_APP_ID", APP_ID),
            ("AUTHORITY_HOST", entra.base_url.as_str()),
            ("AUDIENCES", audiences.as_str()),
            ("KEY_VAULT_URL", azure.vault.url.as_str()),
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
            ("EXPOSED_SECRETS", "db-*,api-*"),
            ("SECRET_ROLES", "db-*=DbReader"),
            ("UPSTREAM_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    Setup { _entra: entra, azure, tls, app }
}

impl Setup {
    /// The official client for `https://HOST:<port>`, its HTTP client trusting the test CA and
    /// resolving `HOST` to loopback (nothing leaves 127.0.0.1).
    fn client(&self, credential: Arc<MintingCredential>) -> SecretClient {
        let address = SocketAddr::from(([127, 0, 0, 1], self.app.port));
        let ca = reqwest::Certificate::from_pem(self.tls.ca_pem().as_bytes()).expect("the test CA");
        let http =
            reqwest::Client::builder().add_root_certificate(ca).resolve(HOST, address).build().expect("an HTTP client");
        let options = SecretClientOptions {
            client_options: ClientOptions { transport: Some(Transport::new(Arc::new(http))), ..Default::default() },
            ..Default::default()
        };
        let url = format!("https://{HOST}:{}", self.app.port);
        SecretClient::new(&url, credential, Some(options)).expect("a client")
    }
}

fn status_and_code(error: &azure_core::Error) -> (Option<StatusCode>, Option<String>) {
    let code = match error.kind() {
        azure_core::error::ErrorKind::HttpResponse { error_code, .. } => error_code.clone(),
        _ => None,
    };
    (error.http_status(), code)
}

#[actix_web::test]
async fn the_official_client_reads_secrets_and_versions_through_vaultgate() {
    let setup = setup().await;
    let credential = MintingCredential::new(&["GetSecret", "DbReader"], "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e");
    let client = setup.client(credential.clone());

    let latest = client.get_secret("DB-PASSWORD", None).await.expect("the latest version").into_model().unwrap();
    assert_eq!(latest.value.as_deref(), Some("new-value"));
    let base = format!("https://{HOST}:{}", setup.app.port);
    assert_eq!(latest.id.as_deref(), Some(format!("{base}/secrets/Db-Password/{V2}").as_str()));
    assert_eq!(latest.attributes.as_ref().and_then(|a| a.enabled), Some(true));
    assert_eq!(credential.asked(), [format!("{RESOURCE}/.default")], "the challenge's resource, asked for once");

    let options = SecretClientGetSecretOptions { secret_version: Some(V1.into()), ..Default::default() };
    let old = client.get_secret("db-password", Some(options)).await.expect("one version").into_model().unwrap();
    assert_eq!(old.value.as_deref(), Some("old-value"));

    // Lists, paged by vaultgate (one item a page), every page followed by the client.
    let options = SecretClientListSecretPropertiesOptions { maxresults: Some(1), ..Default::default() };
    let listed: Vec<_> = client.list_secret_properties(Some(options)).unwrap().try_collect().await.expect("a list");
    let ids: Vec<String> = listed.iter().filter_map(|item| item.id.clone()).collect();
    assert_eq!(ids, [format!("{base}/secrets/api-key"), format!("{base}/secrets/Db-Password")], "never hidden-one");
    let options = SecretClientListSecretPropertiesVersionsOptions { maxresults: Some(1), ..Default::default() };
    let versions: Vec<_> = client
        .list_secret_properties_versions("db-password", Some(options))
        .unwrap()
        .try_collect()
        .await
        .expect("the versions");
    let ids: Vec<String> = versions.iter().filter_map(|item| item.id.clone()).collect();
    assert_eq!(ids, [format!("{base}/secrets/Db-Password/{V1}"), format!("{base}/secrets/Db-Password/{V2}")]);
    assert!(setup.azure.vault.list_pages() >= 2, "vaultgate followed the vault's pages");
}

#[actix_web::test]
async fn the_official_client_meets_key_vaults_errors() {
    let setup = setup().await;
    let client = setup.client(MintingCredential::new(&["GetSecret"], "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5f"));
    let missing = client.get_secret("api-nothing", None).await.expect_err("not found");
    assert_eq!(status_and_code(&missing), (Some(StatusCode::NotFound), Some("SecretNotFound".into())));
    let hidden = client.get_secret("hidden-one", None).await.expect_err("hidden by the policy");
    assert_eq!(status_and_code(&hidden), (Some(StatusCode::NotFound), Some("SecretNotFound".into())));
    let by_role = client.get_secret("db-password", None).await.expect_err("needs DbReader");
    assert_eq!(status_and_code(&by_role), (Some(StatusCode::Forbidden), Some("Forbidden".into())));
    let write = client
        .set_secret(
            "api-key",
            SetSecretParameters { value: Some("x".into()), ..Default::default() }.try_into().unwrap(),
            None,
        )
        .await
        .expect_err("writes are refused");
    assert_eq!(status_and_code(&write).0, Some(StatusCode::MethodNotAllowed));
    assert_eq!(setup.azure.vault.gets_of("api-key"), 0, "nothing was forwarded");

    let no_role = setup.client(MintingCredential::new(&["Reader"], "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d60"));
    let refused = no_role.get_secret("api-key", None).await.expect_err("no GetSecret");
    assert_eq!(status_and_code(&refused), (Some(StatusCode::Forbidden), Some("Forbidden".into())));
}

#[actix_web::test]
async fn the_challenge_names_the_tenant_and_the_resource() {
    let setup = setup().await;
    let reply = send(setup.app.client().get(setup.app.url("/secrets/api-key?api-version=2025-07-01"))).await;
    assert_eq!(reply.status, 401);
    let authority = format!("{}/{TENANT}", setup._entra.base_url);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(format!(r#"Bearer authorization="{authority}", resource="{RESOURCE}""#).as_str())
    );
}
