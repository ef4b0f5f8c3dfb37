//! Key Vault events as Azure Event Grid delivers them, in the Event Grid schema or as
//! CloudEvents 1.0: what a delivery asks (answer a validation handshake, or drop cached
//! secrets), and which events are about our vault.
//!
//! Only `SecretNewVersionCreated`, `SecretNearExpiry` and `SecretExpired` drop a secret's
//! cached entries, and only when the event comes from our vault and names it: its `topic`
//! (CloudEvents: `source`) is the vault's resource id, `/subscriptions/{id}/resourceGroups/
//! {group}/providers/Microsoft.KeyVault/vaults/{name}` with the first label of the vault's
//! host as `{name}` (compared ignoring case, as Azure compares resource ids), and its `data.Id`
//! lies under `KEY_VAULT_URL` (both parsed: scheme, host, port, then whole path segments), or,
//! without an `Id`, its `data.VaultName` is that name. A delivery from another tenant's Event
//! Grid (a multi-tenant app's `ALLOWED_TENANTS`) counts for nothing, not even its validation
//! handshake. Everything else is accepted and ignored. `data` field names are matched
//! case-insensitively (older schemas wrote them camelCase).

use std::str::FromStr;
use std::sync::Arc;

use crate::AppError;
use actix_web::http::Uri;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde_json::{Map, Value};
use vaultgate_config::{ErrorCode, Mode, SecretSource, Settings};

use super::SecretName;
use super::cache::SecretCache;
use crate::fleet::FleetSender;

/// Event Grid's `maxEventsPerBatch` is at most 5,000.
pub const MAX_EVENTS_PER_DELIVERY: usize = 5_000;

/// The Event Grid schema's validation event.
const SUBSCRIPTION_VALIDATION: &str = "Microsoft.EventGrid.SubscriptionValidationEvent";

/// The event types that drop a secret's cached entries, with their metric label.
const INVALIDATING: &[(&str, &str)] = &[
    ("Microsoft.KeyVault.SecretNewVersionCreated", "SecretNewVersionCreated"),
    ("Microsoft.KeyVault.SecretNearExpiry", "SecretNearExpiry"),
    ("Microsoft.KeyVault.SecretExpired", "SecretExpired"),
];

/// Whose Event Grid delivered: the token's `tid` is the home tenant (`TENANT_ID`; local mode
/// has none, so every delivery is its own), or another tenant the app accepts tokens from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveredBy {
    HomeTenant,
    OtherTenant,
}

/// What a delivery asks of us.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The Event Grid schema's handshake: answer `{"validationResponse": code}`.
    Validation { code: String },
    /// Events: the secrets to drop, by event type label, and how many events were ignored.
    Events { invalidate: Vec<(&'static str, SecretName)>, ignored: usize, total: usize },
}

/// Our vault as events name it.
#[derive(Debug, Clone)]
struct Vault {
    scheme: String,
    host: String,
    port: Option<u16>,
    segments: Vec<String>,
    /// The host's first label: `VaultName` in events.
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventTypeLabels {
    event_type: &'static str,
}

/// Applies deliveries to the secret cache.
pub struct KeyVaultEvents {
    vault: Option<Vault>,
    /// `TENANT_ID` in Azure mode (lower case).
    home_tenant: Option<String>,
    cache: Arc<SecretCache>,
    invalidations: Family<EventTypeLabels, Counter>,
    ignored: Counter,
    /// With the fleet tier on: the other replicas learn each name dropped here.
    fleet: Option<FleetSender>,
}

impl KeyVaultEvents {
    /// With the folder store there is no vault: every event is someone else's.
    pub fn new(settings: &Settings, cache: Arc<SecretCache>) -> Self {
        let vault = match &settings.secrets {
            SecretSource::KeyVault(key_vault) => Vault::parse(&key_vault.url),
            SecretSource::Dir(_) => None,
        };
        let home_tenant = match &settings.mode {
            Mode::Azure(azure) => Some(azure.tenant_id.to_ascii_lowercase()),
            Mode::Local { .. } => None,
        };
        KeyVaultEvents {
            vault,
            home_tenant,
            cache,
            invalidations: Family::default(),
            ignored: Counter::default(),
            fleet: None,
        }
    }

    /// Also tells the other replicas (through the fleet tier) of every name dropped.
    pub fn with_fleet(mut self, fleet: FleetSender) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// Who delivered, from the delivery token's `tid`.
    pub fn delivered_by(&self, tid: Option<&str>) -> DeliveredBy {
        match &self.home_tenant {
            Some(home) if !tid.is_some_and(|tid| tid.eq_ignore_ascii_case(home)) => DeliveredBy::OtherTenant,
            _ => DeliveredBy::HomeTenant,
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "keyvault_event_invalidations",
            "Key Vault events that dropped a cached secret, by event type",
            self.invalidations.clone(),
        );
        registry.register(
            "keyvault_events_ignored",
            "Key Vault events accepted and ignored (other types, other vaults, other tenants)",
            self.ignored.clone(),
        );
    }

    /// Reads a delivery's body: bad JSON or a shape that is neither schema is a 400. Of
    /// another tenant's delivery, every event is ignored.
    pub fn read(&self, body: &[u8], by: DeliveredBy) -> Result<Delivery, AppError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| invalid("the body is not JSON"))?;
        let events = match value {
            Value::Array(events) => events,
            // A single CloudEvent (structured mode) comes as an object.
            Value::Object(event) => vec![Value::Object(event)],
            _ => return Err(invalid("a delivery is a JSON array of events or one event object")),
        };
        if events.is_empty() {
            return Err(invalid("a delivery holds at least one event"));
        }
        if events.len() > MAX_EVENTS_PER_DELIVERY {
            return Err(invalid("a delivery holds at most 5000 events"));
        }
        let mut invalidate = Vec::new();
        let mut ignored = 0;
        let total = events.len();
        for event in &events {
            let event = event.as_object().ok_or_else(|| invalid("each event is a JSON object"))?;
            match (self.verdict(event)?, by) {
                (_, DeliveredBy::OtherTenant) | (Verdict::Ignore, _) => ignored += 1,
                (Verdict::Validate(code), DeliveredBy::HomeTenant) => return Ok(Delivery::Validation { code }),
                (Verdict::Invalidate(label, name), DeliveredBy::HomeTenant) => invalidate.push((label, name)),
            }
        }
        Ok(Delivery::Events { invalidate, ignored, total })
    }

    /// What one event asks, whoever delivered it.
    fn verdict(&self, event: &Map<String, Value>) -> Result<Verdict, AppError> {
        let (event_type, data) = type_and_data(event)?;
        if event_type == SUBSCRIPTION_VALIDATION && !is_cloud_event(event) {
            let code = field(data, "validationCode")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a validation event carries data.validationCode"))?;
            return Ok(Verdict::Validate(code.to_owned()));
        }
        let Some(&(_, label)) = INVALIDATING.iter().find(|(name, _)| *name == event_type) else {
            return Ok(Verdict::Ignore);
        };
        let data = data.ok_or_else(|| invalid("a Key Vault event carries data"))?;
        let name = field(Some(data), "ObjectName")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a Key Vault event carries data.ObjectName"))?;
        let name = SecretName::parse(name).map_err(|_| invalid("data.ObjectName is not a secret name"))?;
        let ours = self.is_ours(data)? && self.vault.as_ref().is_some_and(|vault| vault.published(event));
        Ok(if ours { Verdict::Invalidate(label, name) } else { Verdict::Ignore })
    }

    /// Drops the cached entries a delivery names; counts what it did.
    pub fn apply(&self, invalidate: &[(&'static str, SecretName)], ignored: usize) {
        for (label, name) in invalidate {
            let dropped = self.cache.invalidate(name);
            if let Some(fleet) = &self.fleet {
                fleet.announce(name);
            }
            self.invalidations.get_or_create(&EventTypeLabels { event_type: label }).inc();
            log::info!("secret {name}: {label} event, {dropped} cached entries dropped");
        }
        self.ignored.inc_by(ignored as u64);
    }

    /// Whether the event's `data` names our vault (see the module's rule).
    fn is_ours(&self, data: &Map<String, Value>) -> Result<bool, AppError> {
        let Some(vault) = &self.vault else { return Ok(false) };
        if let Some(id) = field(Some(data), "Id") {
            let id = id.as_str().ok_or_else(|| invalid("data.Id is a string"))?;
            return Ok(vault.contains(id));
        }
        match field(Some(data), "VaultName") {
            Some(Value::String(name)) => Ok(name.eq_ignore_ascii_case(&vault.name)),
            Some(_) => Err(invalid("data.VaultName is a string")),
            None => Ok(false),
        }
    }
}

/// What one event asks.
enum Verdict {
    Validate(String),
    Invalidate(&'static str, SecretName),
    Ignore,
}

impl Vault {
    fn parse(url: &str) -> Option<Vault> {
        let uri = Uri::from_str(url).ok()?;
        let host = uri.host()?.to_ascii_lowercase();
        let name = host.split('.').next()?.to_owned();
        Some(Vault {
            scheme: uri.scheme_str()?.to_ascii_lowercase(),
            port: port_of(&uri),
            segments: segments(uri.path()),
            host,
            name,
        })
    }

    /// Whether the event's publisher (`topic`, CloudEvents `source`) is this vault's resource
    /// id: `/subscriptions/*/resourceGroups/*/providers/Microsoft.KeyVault/vaults/<name>`,
    /// each `*` one non-empty segment, ignoring case.
    fn published(&self, event: &Map<String, Value>) -> bool {
        let key = if is_cloud_event(event) { "source" } else { "topic" };
        let Some(Value::String(publisher)) = event.get(key) else { return false };
        let Some(path) = publisher.strip_prefix('/') else { return false };
        let segments: Vec<&str> = path.split('/').collect();
        // `None`: the subscription and the resource group, any one non-empty segment.
        let expected = [
            Some("subscriptions"),
            None,
            Some("resourceGroups"),
            None,
            Some("providers"),
            Some("Microsoft.KeyVault"),
            Some("vaults"),
            Some(self.name.as_str()),
        ];
        segments.len() == expected.len()
            && segments.iter().zip(expected).all(|(segment, expected)| match expected {
                Some(expected) => segment.eq_ignore_ascii_case(expected),
                None => !segment.is_empty(),
            })
    }

    /// Whether `id` (an object's URL) is on this vault: same scheme, host and port, and the
    /// vault URL's path segments, whole, at its start.
    fn contains(&self, id: &str) -> bool {
        let Ok(uri) = Uri::from_str(id) else { return false };
        let Some(authority) = uri.authority() else { return false };
        if authority.as_str().contains('@') {
            return false;
        }
        uri.scheme_str().is_some_and(|scheme| scheme.eq_ignore_ascii_case(&self.scheme))
            && authority.host().eq_ignore_ascii_case(&self.host)
            && port_of(&uri) == self.port
            && segments(uri.path()).starts_with(&self.segments)
    }
}

/// The port, with the scheme's default made explicit (`:443` is how Key Vault writes links).
fn port_of(uri: &Uri) -> Option<u16> {
    uri.port_u16().or(match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => Some(443),
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => Some(80),
        _ => None,
    })
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').filter(|segment| !segment.is_empty()).map(str::to_owned).collect()
}

fn is_cloud_event(event: &Map<String, Value>) -> bool {
    event.contains_key("specversion")
}

/// The event's type and `data`: `type` in CloudEvents (recognised by `specversion`),
/// `eventType` in the Event Grid schema.
fn type_and_data(event: &Map<String, Value>) -> Result<(&str, Data<'_>), AppError> {
    let type_field = if is_cloud_event(event) { "type" } else { "eventType" };
    let event_type = event
        .get(type_field)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("each event has a type (`eventType`, or `type` with `specversion`)"))?;
    let data = match event.get("data") {
        None | Some(Value::Null) => None,
        Some(Value::Object(data)) => Some(data),
        Some(_) => return Err(invalid("an event's data is an object")),
    };
    Ok((event_type, data))
}

/// An event's `data` object, when it has one.
type Data<'a> = Option<&'a Map<String, Value>>;

/// A `data` field by name, ignoring case.
fn field<'a>(data: Data<'a>, name: &str) -> Option<&'a Value> {
    data?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

fn invalid(why: &'static str) -> AppError {
    AppError::new(ErrorCode::InvalidRequest).with_debug(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(url: &str) -> Vault {
        Vault::parse(url).unwrap()
    }

    #[test]
    fn an_id_is_ours_only_on_the_same_origin_and_under_the_vault_path() {
        let ours = vault("https://sample-kv.vault.azure.net/");
        assert!(ours.contains("https://sample-kv.vault.azure.net/secrets/a/0123"));
        assert!(ours.contains("https://SAMPLE-KV.vault.azure.net:443/secrets/a"));
        assert!(!ours.contains("https://sample-kv.vault.azure.net.evil.example/secrets/a"));
        assert!(!ours.contains("https://other-kv.vault.azure.net/secrets/a"));
        assert!(!ours.contains("http://sample-kv.vault.azure.net/secrets/a"));
        assert!(!ours.contains("https://sample-kv.vault.azure.net:8443/secrets/a"));
        assert!(!ours.contains("https://x@sample-kv.vault.azure.net/secrets/a"));
        assert!(!ours.contains("not a url"));
        let local = vault("http://127.0.0.1:8200/kv");
        assert!(local.contains("http://127.0.0.1:8200/kv/secrets/a"));
        assert!(!local.contains("http://127.0.0.1:8200/kv2/secrets/a"), "segments, not a prefix");
        assert!(!local.contains("http://127.0.0.1:8201/kv/secrets/a"));
        assert_eq!(local.name, "127");
        assert_eq!(ours.name, "sample-kv");
    }

    fn event(fields: Value) -> Map<String, Value> {
        fields.as_object().unwrap().clone()
    }

    #[test]
    fn an_event_is_published_by_us_only_under_our_vaults_resource_id() {
        let ours = vault("https://sample-kv.vault.azure.net/");
        let id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/sample-kv";
        assert!(ours.published(&event(serde_json::json!({"topic": id}))));
        assert!(ours.published(&event(serde_json::json!({"topic": id.to_uppercase()}))), "ids ignore case");
        assert!(ours.published(&event(serde_json::json!({"specversion": "1.0", "source": id}))));
        assert!(!ours.published(&event(serde_json::json!({"specversion": "1.0", "topic": id}))), "CloudEvents: source");
        assert!(!ours.published(&event(serde_json::json!({"source": id}))), "Event Grid schema: topic");
        for foreign in [
            id.replace("/vaults/sample-kv", "/vaults/other-kv"),
            id.replace("/vaults/sample-kv", "/vaults/sample-kv2"),
            format!("{id}/"),
            format!("{id}/secrets/a"),
            id.replace("sample-rg", ""),
            id.replace("Microsoft.KeyVault", "Microsoft.Storage"),
            id.trim_start_matches('/').to_owned(),
            format!("https://management.azure.com{id}"),
            String::new(),
        ] {
            assert!(!ours.published(&event(serde_json::json!({"topic": foreign}))), "{foreign}");
        }
        assert!(!ours.published(&event(serde_json::json!({"topic": 7}))));
        assert!(!ours.published(&event(serde_json::json!({}))));
    }
}
