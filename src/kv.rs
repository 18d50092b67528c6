//! `k=v` arguments (`-H`, `--arg`, `--header`): integers and true/false become typed values.

use crate::amqp::{Table, Value};

/// Longest header/argument name the broker accepts (an AMQP short string).
const MAX_KEY: usize = 255;

/// Parse one `k=v` into a typed pair (clap value parser).
pub fn parse_kv(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected key=value, got '{}'", shorten(s)))?;
    if k.is_empty() {
        return Err(format!("empty key in '{}'", shorten(s)));
    }
    if k.len() > MAX_KEY {
        return Err(format!(
            "key longer than {MAX_KEY} bytes in '{}'",
            shorten(s)
        ));
    }
    Ok((k.to_string(), typed(v)))
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

fn shorten(s: &str) -> String {
    if s.len() <= 60 {
        return s.to_string();
    }
    let mut end = 60;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
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
    fn bad_pairs_are_rejected() {
        assert!(parse_kv("novalue").is_err());
        assert!(parse_kv("=v").is_err());
        assert!(parse_kv(&format!("{}=v", "k".repeat(300))).is_err());
    }
}
