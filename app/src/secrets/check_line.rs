//! One line of `vaultgate check`'s report, as a store proves itself: passed or not, the step,
//! and what was found (never a secret value or a token).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub ok: bool,
    pub step: &'static str,
    pub detail: String,
}

/// The lines of a store's check, in the order its steps run.
#[derive(Debug, Default)]
pub struct CheckLines(pub Vec<CheckLine>);

impl CheckLines {
    pub fn line(&mut self, ok: bool, step: &'static str, detail: &str) {
        self.0.push(CheckLine { ok, step, detail: detail.to_owned() });
    }
}
