//! Captures every log line of the test process, so tests can search them for leaks. It is the
//! test process's one logger (`TestApp` and `Azure` both start it, whichever comes first), and
//! it also prints lines at info and above, which the test harness shows for a failing test.

use std::sync::{Mutex, OnceLock};

struct Capture {
    lines: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let mut line = format!("{} {} {}", record.level(), record.target(), record.args());
        let _ = record.key_values().visit(&mut Fields(&mut line));
        if record.level() <= log::Level::Info {
            eprintln!("{line}");
        }
        self.lines.lock().unwrap().push(line);
    }

    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture { lines: Mutex::new(Vec::new()) }));
        log::set_logger(capture).expect("no logger installed before the capture");
        log::set_max_level(log::LevelFilter::Debug);
        capture
    })
}

/// Starts capturing (call before anything logs).
pub fn start_capture() {
    capture();
}

/// Every line captured so far: `LEVEL target message`.
pub fn lines() -> Vec<String> {
    capture().lines.lock().unwrap().clone()
}

/// Appends ` key=value` for each structured field.
struct Fields<'a>(&'a mut String);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: log::kv::Key<'kvs>, value: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
        self.0.push_str(&format!(" {key}={value}"));
        Ok(())
    }
}
