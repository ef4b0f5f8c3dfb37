//! The settings and the catalog as data: one test binary for the crate.

mod catalog;
mod documented_variables;
mod fleet;
mod mode;
mod settings;
mod tls;
mod urls;
