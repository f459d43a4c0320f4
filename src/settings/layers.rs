//! Where settings are read from, in precedence order — command-line flags, `BONAFIDE_<KEY>` environment
//! variables, the TOML file — and the parsers that turn one raw value into a typed one.
//!
//! Every key goes through [`Layers::get`], so every key has the same precedence and every bad value is
//! refused with one message shape: `key = value (from SOURCE): problem`.

use crate::InvalidInputError;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// Where a value came from, as the operator would look for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag such as `--db`.
    Flag(&'static str),
    /// An environment variable such as `BONAFIDE_DB`.
    Env(String),
    /// The settings file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => f.write_str(flag),
            Self::Env(var) => f.write_str(var),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One value as a layer holds it: text from a flag or the environment, a typed TOML value from the file.
#[derive(Debug, Clone)]
pub enum Raw {
    /// From a flag or a variable. Kept as the OS gave it, so a path need not be UTF-8.
    Text(OsString),
    /// From the file.
    Toml(toml::Value),
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => f.write_str(&text.to_string_lossy()),
            Self::Toml(value) => write!(f, "{value}"),
        }
    }
}

/// The name of the environment variable for `key`: `BONAFIDE_` and the key in capitals.
pub fn env_var(key: &str) -> String {
    format!("BONAFIDE_{}", key.to_ascii_uppercase())
}

/// The layers, highest precedence first.
#[derive(Debug, Default)]
pub struct Layers {
    /// Key → (flag name, value).
    flags: HashMap<&'static str, (&'static str, OsString)>,
    /// `BONAFIDE_*` variable → value.
    env: HashMap<String, OsString>,
    /// The file's path and its top-level table.
    file: Option<(PathBuf, toml::Table)>,
}

impl Layers {
    /// The layers over `flags` (key, flag name, value), the environment `env` and the parsed `file`.
    /// A key in the file that is not in `known` is refused, so a typo is not silently ignored.
    pub fn new(
        flags: impl IntoIterator<Item = (&'static str, &'static str, OsString)>,
        env: impl IntoIterator<Item = (OsString, OsString)>,
        file: Option<(PathBuf, toml::Table)>,
        known: &[&str],
    ) -> Result<Self, InvalidInputError> {
        if let Some((path, table)) = &file {
            let mut unknown: Vec<&str> = table.keys().map(String::as_str).filter(|k| !known.contains(k)).collect();
            unknown.sort_unstable();
            if !unknown.is_empty() {
                return Err(InvalidInputError(format!(
                    "{}: unknown key{} {}; the keys are {}",
                    path.display(),
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                    known.join(", ")
                )));
            }
        }
        let flags = flags.into_iter().map(|(key, flag, value)| (key, (flag, value))).collect();
        // Only our own variables are kept; an empty one counts as unset, as clap treated them, so
        // `BONAFIDE_DB=` in a compose file does not mean "a database named nothing".
        let env = env
            .into_iter()
            .filter_map(|(name, value)| {
                let name = name.into_string().ok()?;
                (name.starts_with("BONAFIDE_") && !value.is_empty()).then_some((name, value))
            })
            .collect();
        Ok(Self { flags, env, file })
    }

    /// The environment variable `name`, when set and not empty: for values that are not keys of the file
    /// (`BONAFIDE_SECRET`).
    pub fn var(&self, name: &str) -> Option<&OsString> {
        self.env.get(name)
    }

    /// The highest layer that sets `key`, with where it came from.
    fn raw(&self, key: &'static str) -> Option<(Raw, Source)> {
        if let Some((flag, value)) = self.flags.get(key) {
            return Some((Raw::Text(value.clone()), Source::Flag(flag)));
        }
        let var = env_var(key);
        if let Some(value) = self.env.get(&var) {
            return Some((Raw::Text(value.clone()), Source::Env(var)));
        }
        let (path, table) = self.file.as_ref()?;
        table.get(key).map(|value| (Raw::Toml(value.clone()), Source::File(path.clone())))
    }

    /// `key` read by `parse` from the highest layer that sets it; `None` when none does, so the caller's
    /// default applies. A value `parse` refuses is an error naming the key, the value and its source.
    pub fn get<T>(
        &self,
        key: &'static str,
        parse: impl FnOnce(&Raw) -> Result<T, String>,
    ) -> Result<Option<T>, InvalidInputError> {
        let Some((raw, source)) = self.raw(key) else { return Ok(None) };
        parse(&raw).map(Some).map_err(|problem| InvalidInputError(format!("{key} = {raw} (from {source}): {problem}")))
    }
}

/// A string.
pub fn text(raw: &Raw) -> Result<String, String> {
    match raw {
        Raw::Text(text) => text.to_str().map(str::to_owned).ok_or_else(|| "must be valid UTF-8".to_owned()),
        Raw::Toml(toml::Value::String(s)) => Ok(s.clone()),
        Raw::Toml(_) => Err("must be a string".to_owned()),
    }
}

/// A file path; from a flag or the environment it need not be UTF-8.
pub fn path(raw: &Raw) -> Result<PathBuf, String> {
    match raw {
        Raw::Text(text) => Ok(PathBuf::from(text)),
        Raw::Toml(_) => text(raw).map(PathBuf::from),
    }
}

/// `true` or `false`; in text also `1`/`0` and `yes`/`no`, which `BONAFIDE_SECURE_COOKIES` always took.
pub fn boolean(raw: &Raw) -> Result<bool, String> {
    const PROBLEM: &str = "must be true or false";
    match raw {
        Raw::Toml(toml::Value::Boolean(b)) => Ok(*b),
        Raw::Toml(_) => Err(PROBLEM.to_owned()),
        Raw::Text(_) => match text(raw)?.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(PROBLEM.to_owned()),
        },
    }
}

/// A list of strings: a TOML array, or comma-separated text (`a.com, b.com`; empty items are dropped).
pub fn list(raw: &Raw) -> Result<Vec<String>, String> {
    match raw {
        Raw::Text(_) => Ok(text(raw)?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()),
        Raw::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| "must be a list of strings".to_owned()))
            .collect(),
        Raw::Toml(_) => Err("must be a list of strings".to_owned()),
    }
}

/// A whole number from `min` to `max` (`None`: no upper bound). The range is in the message, so the
/// operator need not look it up.
pub fn whole(min: i64, max: Option<i64>) -> impl Fn(&Raw) -> Result<i64, String> {
    move |raw| {
        let range = match max {
            Some(max) => format!("from {min} to {max}"),
            None => format!("at least {min}"),
        };
        let not_a_number = || format!("must be a whole number ({range})");
        let n = match raw {
            Raw::Toml(toml::Value::Integer(n)) => *n,
            Raw::Toml(_) => return Err(not_a_number()),
            Raw::Text(_) => text(raw)?.trim().parse::<i64>().map_err(|_| not_a_number())?,
        };
        if n < min || max.is_some_and(|max| n > max) { Err(format!("must be {range}")) } else { Ok(n) }
    }
}

/// A whole number from `min` to `max`, as the type a setting is stored in.
pub fn whole_as<T: TryFrom<i64>>(min: i64, max: i64) -> impl Fn(&Raw) -> Result<T, String> {
    move |raw| {
        let n = whole(min, Some(max))(raw)?;
        // The range fits every type this is used with; the message only guards a wrong range in code.
        T::try_from(n).map_err(|_| format!("must be from {min} to {max}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> Raw {
        Raw::Toml(text.parse::<toml::Table>().unwrap().remove("v").unwrap())
    }

    #[test]
    fn text_and_toml_values_parse_alike() {
        assert_eq!(whole(1, None)(&Raw::Text(" 5 ".into())), Ok(5));
        assert_eq!(whole(1, None)(&toml("v = 5")), Ok(5));
        assert_eq!(whole(1, Some(9))(&toml("v = 10")), Err("must be from 1 to 9".to_owned()));
        assert_eq!(whole(1, None)(&toml("v = \"5\"")), Err("must be a whole number (at least 1)".to_owned()));
        assert_eq!(boolean(&Raw::Text("Yes".into())), Ok(true));
        assert_eq!(boolean(&toml("v = false")), Ok(false));
        assert!(boolean(&Raw::Text("on-ish".into())).is_err());
        assert_eq!(list(&Raw::Text("a.com, b.com,".into())), Ok(vec!["a.com".to_owned(), "b.com".to_owned()]));
        assert_eq!(list(&toml("v = [\"a.com\"]")), Ok(vec!["a.com".to_owned()]));
        assert!(list(&toml("v = [1]")).is_err());
        assert_eq!(whole_as::<u32>(1, 1000)(&toml("v = 7")), Ok(7));
    }

    #[test]
    fn a_file_value_is_shown_as_toml_and_a_text_value_as_given() {
        assert_eq!(toml("v = \"x\"").to_string(), "\"x\"");
        assert_eq!(Raw::Text("x".into()).to_string(), "x");
    }
}
