//! `FLEET_REDIS_URL` and its companions: `rediss://` anywhere, `redis://` on loopback only, a
//! password allowed and never shown; unset, no fleet tier at all.

use std::collections::HashMap;
use std::time::Duration;

use vaultgate_config::Settings;
use vaultgate_config::fleet_settings::FleetSettings;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Settings::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.lines())
}

fn fleet(vars: &[(&str, &str)]) -> Result<FleetSettings, Vec<String>> {
    Ok(settings(vars)?.fleet.expect("the fleet tier is on"))
}

#[test]
fn without_fleet_redis_url_there_is_no_fleet_tier() {
    assert_eq!(settings(&[]).unwrap().fleet, None);
    assert_eq!(settings(&[("FLEET_REDIS_STREAM", "other"), ("FLEET_REDIS_TIMEOUT_MS", "80")]).unwrap().fleet, None);
}

#[test]
fn rediss_urls_are_accepted_anywhere_with_defaults() {
    let fleet = fleet(&[("FLEET_REDIS_URL", "rediss://fleet.westeurope.redis.azure.net:10000")]).unwrap();
    assert_eq!(fleet.url.0, "rediss://fleet.westeurope.redis.azure.net:10000");
    assert_eq!(fleet.shown, "rediss://fleet.westeurope.redis.azure.net:10000");
    assert_eq!(fleet.stream, "vaultgate:invalidations");
    assert_eq!(fleet.timeout, Duration::from_millis(50));
}

#[test]
fn plain_redis_is_accepted_on_loopback_only() {
    assert_eq!(fleet(&[("FLEET_REDIS_URL", "redis://127.0.0.1:6379")]).unwrap().shown, "redis://127.0.0.1:6379");
    assert_eq!(fleet(&[("FLEET_REDIS_URL", "redis://localhost:6379/0")]).unwrap().url.0, "redis://localhost:6379/0");
    assert_eq!(
        fleet(&[("FLEET_REDIS_URL", "redis://fleet.example.net:6379")]).unwrap_err(),
        vec![
            "FLEET_REDIS_URL: must be rediss://host:port (redis:// only for loopback hosts), got \"redis://fleet.example.net:6379\""
        ]
    );
    for refused in [
        "https://fleet.example.net",
        "rediss://fleet.example.net:6380?db=1",
        "rediss://fleet.example.net/x",
        "rediss://fleet.example.net:6380/#insecure",
        "rediss://fleet.example.net:6380#insecure",
    ] {
        assert!(fleet(&[("FLEET_REDIS_URL", refused)]).is_err(), "{refused}");
    }
}

#[test]
fn a_password_in_the_url_is_kept_but_never_shown() {
    let fleet = fleet(&[("FLEET_REDIS_URL", "rediss://:pa55word@fleet.example.net:6380")]).unwrap();
    assert_eq!(fleet.url.0, "rediss://:pa55word@fleet.example.net:6380");
    assert_eq!(fleet.shown, "rediss://fleet.example.net:6380");
    assert!(!format!("{fleet:?}").contains("pa55word"), "{fleet:?}");
    let refused = settings(&[("FLEET_REDIS_URL", "redis://user:pa55word@fleet.example.net:6379")]).unwrap_err();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].starts_with("FLEET_REDIS_URL: "), "{refused:?}");
    assert!(!refused[0].contains("pa55word"), "{refused:?}");
    let unparsable = settings(&[("FLEET_REDIS_URL", "rediss://:pa55 word@fleet.example.net:6380")]).unwrap_err();
    assert!(!unparsable[0].contains("pa55"), "{unparsable:?}");
}

#[test]
fn the_stream_and_the_timeout_can_be_set_within_bounds() {
    let url = ("FLEET_REDIS_URL", "redis://127.0.0.1:6379");
    let fleet =
        fleet(&[url, ("FLEET_REDIS_STREAM", "team-a:invalidations"), ("FLEET_REDIS_TIMEOUT_MS", "200")]).unwrap();
    assert_eq!(fleet.stream, "team-a:invalidations");
    assert_eq!(fleet.timeout, Duration::from_millis(200));
    assert_eq!(
        settings(&[url, ("FLEET_REDIS_TIMEOUT_MS", "0")]).unwrap_err(),
        vec!["FLEET_REDIS_TIMEOUT_MS: must be whole milliseconds from 1 to 10000, got \"0\""]
    );
    assert_eq!(
        settings(&[url, ("FLEET_REDIS_STREAM", "two words")]).unwrap_err(),
        vec!["FLEET_REDIS_STREAM: must be a Redis key of letters, digits and - _ : . (at most 200), got \"two words\""]
    );
}
