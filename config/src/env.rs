//! The environment reader: every variable goes through here once, trimmed (blank counts as
//! unset), parsed and range-checked; each problem becomes one line that names the variable,
//! and all of them are reported together.

use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use crate::credential_settings::IfChosen;
use crate::problem::SettingProblem;
use crate::url::{UrlRule, check_url};

pub(crate) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<SettingProblem>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env { lookup, problems: Vec::new() }
    }

    /// The trimmed value; blank counts as unset.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The first of `names` that is set, and its trimmed value: for variables with a
    /// lowercase and an uppercase form, read as curl reads them (the lowercase form first).
    pub(crate) fn first_set(&self, names: [&'static str; 2]) -> Option<(&'static str, String)> {
        names.into_iter().find_map(|name| self.text(name).map(|value| (name, value)))
    }

    /// The value as it is, untrimmed (a password's spaces are its own); empty counts as unset.
    pub(crate) fn verbatim(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    /// Set, but to nothing but blanks: for variables whose absence means something else
    /// (a blank `TENANT_ID` is not "no tenant").
    pub(crate) fn is_blank(&self, name: &str) -> bool {
        (self.lookup)(name).is_some_and(|v| v.trim().is_empty())
    }

    /// Notes a problem.
    pub(crate) fn problem(&mut self, problem: SettingProblem) {
        self.problems.push(problem);
    }

    /// What `read` returns, with the problems it found kept apart rather than reported.
    pub(crate) fn reported_apart<T>(&mut self, read: impl FnOnce(&mut Self) -> T) -> IfChosen<T> {
        let before = self.problems.len();
        let value = read(self);
        IfChosen { value, problems: self.problems.split_off(before) }
    }

    pub(crate) fn into_problems(self) -> Vec<SettingProblem> {
        self.problems
    }

    /// A whole number of seconds within `range`, or `default` when unset.
    pub(crate) fn seconds(&mut self, name: &str, default: u64, range: RangeInclusive<u64>) -> Duration {
        Duration::from_secs(self.whole(name, default, range, "whole seconds"))
    }

    /// A whole number of milliseconds within `range`, or `default` when unset.
    pub(crate) fn milliseconds(&mut self, name: &str, default: u64, range: RangeInclusive<u64>) -> Duration {
        Duration::from_millis(self.whole(name, default, range, "whole milliseconds"))
    }

    /// A whole number within `range`, or `default` when unset.
    pub(crate) fn count(&mut self, name: &str, default: usize, range: RangeInclusive<usize>) -> usize {
        self.whole(name, default, range, "a whole number")
    }

    fn whole<T: FromStr + PartialOrd + std::fmt::Display>(
        &mut self,
        name: &str,
        default: T,
        range: RangeInclusive<T>,
        what: &'static str,
    ) -> T {
        let Some(value) = self.text(name) else { return default };
        match value.parse::<T>() {
            Ok(number) if range.contains(&number) => number,
            _ => {
                self.problem(SettingProblem::OutOfRange {
                    variable: name.to_owned(),
                    unit: what,
                    min: range.start().to_string(),
                    max: range.end().to_string(),
                    value,
                });
                default
            }
        }
    }

    /// One of `choices` (matched case-insensitively), or `default` when unset.
    pub(crate) fn one_of<T: Copy>(&mut self, name: &str, choices: &[(&str, T)], default: T) -> T {
        let Some(value) = self.text(name) else { return default };
        if let Some((_, choice)) = choices.iter().find(|(word, _)| word.eq_ignore_ascii_case(&value)) {
            return *choice;
        }
        let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
        let expected = match words.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        self.problem(SettingProblem::NotAChoice { variable: name.to_owned(), expected, value });
        default
    }

    /// `on` or `off`.
    pub(crate) fn switch(&mut self, name: &str, default: bool) -> bool {
        self.one_of(name, &[("on", true), ("off", false)], default)
    }

    /// A comma list without blank entries; `None` when unset.
    pub(crate) fn list(&self, name: &str) -> Option<Vec<String>> {
        self.text(name).map(|value| split_list(&value))
    }

    /// A comma list of tenant GUIDs, lowercased; empty when unset.
    pub(crate) fn guids(&mut self, name: &str) -> Vec<String> {
        let guids = self.list(name).unwrap_or_default();
        for guid in guids.iter().filter(|g| !is_guid(g)) {
            self.problems.push(SettingProblem::NotATenantGuid { variable: name.to_owned(), value: guid.clone() });
        }
        guids.into_iter().map(|g| g.to_ascii_lowercase()).collect()
    }

    /// A checked URL without a trailing slash; `None` when unset. A bad URL is a problem
    /// and is returned as given, so that reading can go on and report everything.
    pub(crate) fn url(&mut self, name: &str, rule: UrlRule) -> Option<String> {
        let value = self.text(name)?;
        Some(check_url(name, &value, rule).unwrap_or_else(|problem| {
            self.problem(SettingProblem::Url(problem));
            value
        }))
    }
}

/// `a, b,,c` → `["a", "b", "c"]`.
pub(crate) fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// `8-4-4-4-12` hexadecimal digits.
pub(crate) fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}
