//! Reading a JSON array from the management API one element at a time: each element is
//! handed on as soon as it is parsed, so a listing of 10,000 queues never exists as one
//! string or one tree. Anything other than an array is returned whole, for the caller's
//! "unexpected answer" message.

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::BufRead;

/// What the body held.
pub enum Outcome {
    /// An array of this many elements, each already handed on.
    Array(usize),
    /// Something else (`null` for an empty body).
    Other(Value),
}

/// Why the body could not be read.
pub enum Bad {
    /// Reading failed (the connection broke, or timed out).
    Io(std::io::Error),
    /// Not JSON (serde_json's words, with line and column).
    Json(serde_json::Error),
}

/// Parse the JSON document in `reader`, calling `each` for every element if it is an array.
pub fn each_element(reader: &mut dyn BufRead, each: &mut dyn FnMut(Value)) -> Result<Outcome, Bad> {
    if only_whitespace(reader).map_err(Bad::Io)? {
        return Ok(Outcome::Other(Value::Null));
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let outcome = Seed { each }.deserialize(&mut de).map_err(classify)?;
    de.end().map_err(classify)?;
    Ok(outcome)
}

fn classify(e: serde_json::Error) -> Bad {
    match e.io_error_kind() {
        Some(kind) => Bad::Io(std::io::Error::new(kind, e.to_string())),
        None => Bad::Json(e),
    }
}

/// Skip leading whitespace; true when nothing else is left.
fn only_whitespace(reader: &mut dyn BufRead) -> std::io::Result<bool> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(true);
        }
        let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let rest = n < buf.len();
        reader.consume(n);
        if rest {
            return Ok(false);
        }
    }
}

struct Seed<'a> {
    each: &'a mut dyn FnMut(Value),
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Outcome;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Outcome, D::Error> {
        d.deserialize_any(self)
    }
}

/// `Other(v)` from a scalar.
fn other<E>(v: impl Into<Value>) -> Result<Outcome, E> {
    Ok(Outcome::Other(v.into()))
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Outcome;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Outcome, A::Error> {
        let mut n = 0;
        while let Some(v) = seq.next_element::<Value>()? {
            (self.each)(v);
            n += 1;
        }
        Ok(Outcome::Array(n))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Outcome, A::Error> {
        use serde::Deserialize;
        Value::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Outcome::Other)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Outcome, E> {
        other(v)
    }

    fn visit_i64<E>(self, v: i64) -> Result<Outcome, E> {
        other(v)
    }

    fn visit_u64<E>(self, v: u64) -> Result<Outcome, E> {
        other(v)
    }

    fn visit_f64<E>(self, v: f64) -> Result<Outcome, E> {
        other(v)
    }

    fn visit_str<E>(self, v: &str) -> Result<Outcome, E> {
        other(v)
    }

    fn visit_unit<E>(self) -> Result<Outcome, E> {
        Ok(Outcome::Other(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> (Vec<Value>, Result<Outcome, Bad>) {
        let mut got = Vec::new();
        let mut r = std::io::Cursor::new(body.as_bytes().to_vec());
        let out = each_element(&mut r, &mut |v| got.push(v));
        (got, out)
    }

    #[test]
    fn an_array_is_handed_on_element_by_element() {
        let (got, out) = run(r#" [{"name":"a","messages":1}, {"name":"b"}] "#);
        assert!(matches!(out, Ok(Outcome::Array(2))));
        assert_eq!(got[0]["name"], "a");
        assert_eq!(got[1]["name"], "b");
    }

    #[test]
    fn anything_else_comes_back_whole() {
        let (got, out) = run(r#"{"error":"x"}"#);
        assert!(got.is_empty());
        assert!(matches!(out, Ok(Outcome::Other(v)) if v["error"] == "x"));
        assert!(matches!(run("  \n").1, Ok(Outcome::Other(Value::Null))));
        assert!(matches!(run("7").1, Ok(Outcome::Other(v)) if v == 7));
    }

    #[test]
    fn not_json_names_the_place() {
        let Err(Bad::Json(e)) = run("<html>").1 else {
            panic!("expected a JSON error")
        };
        let from_str = serde_json::from_str::<Value>("<html>").unwrap_err();
        assert_eq!(e.to_string(), from_str.to_string());
        assert!(matches!(run("[1] x").1, Err(Bad::Json(_))));
        assert!(matches!(run("[1,").1, Err(Bad::Json(_))));
    }
}
