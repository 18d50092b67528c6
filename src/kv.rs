//! `k=v` arguments (`-H`, `--arg`, `--header`): integers and true/false become typed values;
//! also [`shorten`], the one way rmq cuts a long value for an error message. Nothing here
//! talks to the broker or prints: parse errors go back to clap as values.

use crate::amqp::{Table, Value};

/// Longest header/argument name the broker accepts (an AMQP short string).
const MAX_KEY: usize = 255;

/// How much of a bad `k=v` argument an error message repeats.
const SHOWN: usize = 60;

/// Parse one `k=v` into a typed pair (clap value parser).
pub fn parse_kv(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected key=value, got '{}'", shorten(s, SHOWN)))?;
    if k.is_empty() {
        return Err(format!("empty key in '{}'", shorten(s, SHOWN)));
    }
    if k.len() > MAX_KEY {
        return Err(format!(
            "key longer than {MAX_KEY} bytes in '{}'",
            shorten(s, SHOWN)
        ));
    }
    Ok((k.to_string(), typed(v)))
}

/// [`parse_kv`] as a clap value parser whose errors do not repeat the whole value (clap's
/// own "invalid value '...'" would print a 100 KB argument in full).
#[derive(Clone, Copy, Debug)]
pub struct KvParser;

impl clap::builder::TypedValueParser for KvParser {
    type Value = (String, Value);

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let name = arg
            .and_then(|a| a.get_long().map(|l| format!("--{l}")))
            .unwrap_or_else(|| "K=V".into());
        let Some(s) = value.to_str() else {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                format!("{name}: the value is not valid UTF-8\n"),
            )
            .with_cmd(cmd));
        };
        parse_kv(s).map_err(|why| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid {name} value: {why}\n"),
            )
            .with_cmd(cmd)
        })
    }
}

/// "42" → Int, "true"/"false" → Bool, anything else → Str.
pub fn typed(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        return Value::Int(i);
    }
    match v {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::Str(v.to_string()),
    }
}

/// Collect pairs into a table (later keys win).
pub fn table(pairs: &[(String, Value)]) -> Table {
    pairs.iter().cloned().collect()
}

/// `s` as it is when it has at most `max` bytes, else its first `max` bytes (less, to end on
/// a character) and `...`: error messages never repeat a 100 KB argument in full.
pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        s.to_string()
    } else {
        format!("{}...", &s[..s.floor_char_boundary(max)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed() {
        assert_eq!(parse_kv("a=1").unwrap(), ("a".into(), Value::Int(1)));
        assert_eq!(parse_kv("a=true").unwrap().1, Value::Bool(true));
        assert_eq!(parse_kv("a=x=y").unwrap().1, Value::Str("x=y".into()));
        assert_eq!(parse_kv("a=").unwrap().1, Value::Str(String::new()));
    }

    #[test]
    fn shorten_cuts_on_a_character_and_marks_the_cut() {
        assert_eq!(shorten("short", 60), "short");
        assert_eq!(shorten(&"a".repeat(60), 60), "a".repeat(60));
        assert_eq!(
            shorten(&"a".repeat(61), 60),
            format!("{}...", "a".repeat(60))
        );
        assert_eq!(shorten("ééé", 3), "é...");
    }

    #[test]
    fn bad_pairs_are_rejected() {
        assert!(parse_kv("novalue").is_err());
        assert!(parse_kv("=v").is_err());
        assert!(parse_kv(&format!("{}=v", "k".repeat(300))).is_err());
    }
}
