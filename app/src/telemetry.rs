//! Logging: env_logger, `RUST_LOG` honoured (`info` by default), `RUST_LOG_STYLE` too.
//! `LOG_FORMAT=json` writes one JSON object per line (time, level, target, message, fields)
//! for Azure Monitor and Container Apps; in that mode panics are logged as JSON too.

use std::io::Write;

use log::kv::{Key, Value, VisitSource};
use vaultgate_config::LogFormat;

/// env_logger's own variables, named here so that the documentation test sees them read.
const LOG_FILTER_VARIABLE: &str = "RUST_LOG";
const LOG_STYLE_VARIABLE: &str = "RUST_LOG_STYLE";

/// Initialises logging once; later calls (tests spawning many servers) are ignored.
pub fn init_logging(format: LogFormat) {
    let variables = env_logger::Env::new().filter_or(LOG_FILTER_VARIABLE, "info").write_style(LOG_STYLE_VARIABLE);
    let mut builder = env_logger::Builder::from_env(variables);
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = json_line(&buf.timestamp_millis().to_string(), record);
            writeln!(buf, "{line}")
        });
        std::panic::set_hook(Box::new(|info| log::error!(target: "panic", "{info}")));
    }
    let _ = builder.try_init();
}

/// One log record as a JSON object.
pub fn json_line(time: &str, record: &log::Record) -> String {
    let mut fields = serde_json::Map::new();
    let _ = record.key_values().visit(&mut FieldCollector(&mut fields));
    let mut line = serde_json::json!({
        "time": time,
        "level": record.level().as_str(),
        "target": record.target(),
        "message": record.args().to_string(),
    });
    if !fields.is_empty() {
        line["fields"] = serde_json::Value::Object(fields);
    }
    line.to_string()
}

struct FieldCollector<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl<'kvs> VisitSource<'kvs> for FieldCollector<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(n) = value.to_i64() {
            n.into()
        } else if let Some(n) = value.to_f64() {
            serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
        } else if let Some(b) = value.to_bool() {
            b.into()
        } else {
            value.to_string().into()
        };
        self.0.insert(key.as_str().to_owned(), json);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_one_json_object() {
        let kvs: &[(&str, &str)] = &[("secret", "db-password"), ("outcome", "ok")];
        let record = log::Record::builder()
            .args(format_args!("secret access \"quoted\"\nnext"))
            .level(log::Level::Info)
            .target("audit")
            .key_values(&kvs)
            .build();
        let line = json_line("2026-11-28T13:00:00.000Z", &record);
        assert!(!line.contains('\n'));
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "time": "2026-11-28T13:00:00.000Z",
                "level": "INFO",
                "target": "audit",
                "message": "secret access \"quoted\"\nnext",
                "fields": {"secret": "db-password", "outcome": "ok"}
            })
        );
    }
}
