//! `--filter EXPR`: a jq expression, compiled once with the jaq crates, that says whether a
//! message's JSON envelope (src/envelope.rs) matches. It only decides match or no match: it
//! never connects, prints or takes messages; the commands (peek, receive, move) do that.

use crate::error::{Error, Result};
use jaq_core::load::{self, Arena, File, Loader, lex, parse};
use jaq_core::{Ctx, Vars, compile, data, unwrap_valr};
use jaq_json::Val;
use serde::Deserialize;

/// Run-time data of our filters: JSON values and nothing else (no `input`, no files).
type Data = data::JustLut<Val>;

/// The text of `--help` shared by every command with `--filter`.
pub const HELP: &str = "\
A jq expression on the message's JSON envelope (the object --json prints): exchange, \
routing_key, redelivered, properties, headers, body (or body_base64). A message matches \
when the first value EXPR yields is true; false, null, any other value, no value or an \
error (e.g. .body | fromjson on a body that is not JSON) mean no match.";

/// A compiled `--filter` expression, ready to run on any number of envelopes.
pub struct Filter {
    expr: String,
    compiled: jaq_core::Filter<Data>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Filter").field(&self.expr).finish()
    }
}

impl Filter {
    /// Compile `expr` (jq syntax, with jq's standard filters such as `startswith`,
    /// `fromjson`, `select`, `any`). A malformed or undefined name is [`Error::Usage`]
    /// naming the expression and the line and column of the first error.
    pub fn parse(expr: &str) -> Result<Filter> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let program = File {
            code: expr,
            path: (),
        };
        let modules = Loader::new(defs)
            .load(&arena, program)
            .map_err(|errs| load_error(expr, errs))?;
        let compiled = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| compile_error(expr, errs))?;
        Ok(Filter {
            expr: expr.to_string(),
            compiled,
        })
    }

    /// Whether `envelope` matches: the first output of the expression is `true`. An
    /// expression that raises an error, yields nothing or yields anything else on this
    /// envelope does not match. `Err` only when the envelope cannot be handed to jaq.
    pub fn matches(&self, envelope: &serde_json::Value) -> Result<bool> {
        let input = Val::deserialize(envelope)
            .map_err(|e| Error::Other(format!("cannot evaluate --filter: {e}")))?;
        let ctx = Ctx::<Data>::new(&self.compiled.lut, Vars::new([]));
        let first = self.compiled.id.run((ctx, input)).map(unwrap_valr).next();
        Ok(matches!(first, Some(Ok(Val::Bool(true)))))
    }
}

/// Where `part` (a slice of `expr`, as jaq reports errors) starts, as "line L, column C"
/// (columns count characters from 1), "column C" alone for a one-line expression; `None`
/// for a slice of something else (jaq's own definitions).
fn position(expr: &str, part: &str) -> Option<String> {
    let (start, p) = (expr.as_ptr() as usize, part.as_ptr() as usize);
    if p < start || p + part.len() > start + expr.len() {
        return None;
    }
    let before = &expr[..load::span(expr, part).start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some(if expr.contains('\n') {
        format!("line {line}, column {column}")
    } else {
        format!("column {column}")
    })
}

/// What was found at an error: the token (shortened), or the end of the expression.
fn found(part: &str) -> String {
    let token: String = part.chars().take(20).collect();
    match token.as_str() {
        "" => "the end of the expression".to_string(),
        t if token.len() < part.len() => format!("'{t}...'"),
        t => format!("'{t}'"),
    }
}

fn usage(expr: &str, what: &str, at: &str) -> Error {
    let at = position(expr, at).map_or(String::new(), |p| format!(" at {p}"));
    Error::Usage(format!(
        "invalid --filter expression {}: {what}{at}",
        one_line(expr)
    ))
}

/// The expression quoted on one line (newlines, tabs and other control characters escaped).
fn one_line(expr: &str) -> String {
    let mut s = String::with_capacity(expr.len() + 2);
    s.push('\'');
    for c in expr.chars() {
        if c.is_control() {
            s.extend(c.escape_default());
        } else {
            s.push(c);
        }
    }
    s.push('\'');
    s
}

fn load_error(expr: &str, errs: load::Errors<&str, ()>) -> Error {
    for (_file, err) in errs {
        match err {
            load::Error::Lex(es) => {
                if let Some((expect, at)) = es.into_iter().next() {
                    return usage(expr, &lex_expect(expr, &expect, at), at);
                }
            }
            load::Error::Parse(es) => {
                if let Some((expect, at)) = es.into_iter().next() {
                    let what = match expect {
                        parse::Expect::Nothing => format!("unexpected {}", found(at)),
                        other => format!("expected {}, found {}", parse_expect(&other), found(at)),
                    };
                    return usage(expr, &what, at);
                }
            }
            load::Error::Io(es) => {
                if let Some((path, _why)) = es.into_iter().next() {
                    let what =
                        format!("cannot import or include '{path}' (no modules in --filter)");
                    return usage(expr, &what, path);
                }
            }
        }
    }
    Error::Usage(format!("invalid --filter expression {}", one_line(expr)))
}

fn lex_expect(expr: &str, expect: &lex::Expect<&str>, at: &str) -> String {
    match expect {
        // The lexer names the opening delimiter (a slice of EXPR) that was not closed.
        lex::Expect::Delim(open @ ("(" | "[" | "{" | "\"")) => format!(
            "expected a {} for the '{open}'{}, found {}",
            lex::Expect::Delim(*open).as_str(),
            position(expr, open).map_or(String::new(), |p| format!(" at {p}")),
            found(at)
        ),
        lex::Expect::Delim(open) => format!("'{open}' is not closed"),
        lex::Expect::Token => format!("unexpected {}", found(at)),
        other => format!("expected {}, found {}", other.as_str(), found(at)),
    }
}

fn parse_expect(expect: &parse::Expect<&str>) -> String {
    match expect {
        parse::Expect::Just(s) => format!("'{s}'"),
        other => other.as_str().to_string(),
    }
}

fn compile_error(expr: &str, errs: compile::Errors<&str, ()>) -> Error {
    for (_file, es) in errs {
        if let Some((name, undefined)) = es.into_iter().next() {
            let what = match undefined {
                compile::Undefined::Filter(arity) => format!("undefined filter {name}/{arity}"),
                other => format!("undefined {} {name}", other.as_str()),
            };
            return usage(expr, &what, name);
        }
    }
    Error::Usage(format!("invalid --filter expression {}", one_line(expr)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(rk: &str, tenant: Option<&str>, body: &str) -> serde_json::Value {
        let mut e = json!({
            "exchange": "orders",
            "routing_key": rk,
            "redelivered": false,
            "properties": {"content_type": "application/json", "priority": 3},
            "body": body,
        });
        if let Some(t) = tenant {
            e["headers"] = json!({"tenant": t, "attempt": 2});
        }
        e
    }

    fn yes(expr: &str, e: &serde_json::Value) -> bool {
        Filter::parse(expr).unwrap().matches(e).unwrap()
    }

    #[test]
    fn routing_key_prefix_matches() {
        let f = r#".routing_key | startswith("eu.")"#;
        assert!(yes(f, &envelope("eu.orders", None, "x")));
        assert!(!yes(f, &envelope("us.orders", None, "x")));
        assert!(!yes(f, &envelope("", None, "x")));
    }

    #[test]
    fn header_equality_matches_and_missing_headers_do_not() {
        let f = r#".headers.tenant == "acme""#;
        assert!(yes(f, &envelope("k", Some("acme"), "x")));
        assert!(!yes(f, &envelope("k", Some("other"), "x")));
        // No headers at all: .headers is null, .headers.tenant null, not an error.
        assert!(!yes(f, &envelope("k", None, "x")));
        assert!(yes(".headers.attempt >= 2", &envelope("k", Some("a"), "x")));
    }

    #[test]
    fn json_body_field_matches_and_non_json_body_does_not() {
        let f = "(.body | fromjson? | .amount) > 100";
        assert!(yes(f, &envelope("k", None, r#"{"amount": 150}"#)));
        assert!(yes(f, &envelope("k", None, r#"{"amount": 100.5}"#)));
        assert!(!yes(f, &envelope("k", None, r#"{"amount": 100}"#)));
        assert!(!yes(f, &envelope("k", None, "not json")));
        assert!(!yes(f, &envelope("k", None, r#"{"other": 1}"#)));
    }

    #[test]
    fn only_a_first_output_of_true_matches() {
        let e = envelope("k", None, "x");
        for no in [
            "false",
            "null",
            "1",
            r#""true""#,
            "empty",
            "[true]",
            "false, true",
        ] {
            assert!(!yes(no, &e), "{no}");
        }
        assert!(yes("true, false", &e));
        assert!(yes(
            ".properties.priority == 3 and .exchange == \"orders\"",
            &e
        ));
    }

    #[test]
    fn an_error_while_evaluating_is_no_match() {
        let e = envelope("k", None, "not json");
        for expr in [
            ".body | fromjson | .a > 1",
            r#"error("x")"#,
            ".body + 1 > 0",
            ".[0]",
        ] {
            assert!(!yes(expr, &e), "{expr}");
        }
    }

    #[test]
    fn standard_filters_are_available() {
        let e = envelope("eu.orders.new", Some("acme"), r#"{"items":[1,2,3]}"#);
        assert!(yes(r#".routing_key | endswith(".new")"#, &e));
        assert!(yes(r#".routing_key | split(".") | length == 3"#, &e));
        assert!(yes(
            r#"(.body | fromjson | .items | map(. * 2) | add) == 12"#,
            &e
        ));
        assert!(yes(r#".headers | has("tenant")"#, &e));
        assert!(yes(r#"[.headers[]] | any(. == "acme")"#, &e));
        assert!(yes(
            r#".routing_key | ascii_upcase | contains("ORDERS")"#,
            &e
        ));
        assert!(yes(r#".routing_key | test("^(eu|us)\\.")"#, &e));
        assert!(!yes(r#".routing_key | test("^us\\.")"#, &e));
        let binary = json!({"routing_key": "k", "body_base64": "aGk="});
        assert!(yes(r#".body_base64 | @base64d == "hi""#, &binary));
        assert!(yes(
            ".properties.priority >= 3 and .headers.attempt > 1",
            &e
        ));
    }

    #[test]
    fn one_filter_runs_on_many_envelopes() {
        let f = Filter::parse(r#".routing_key | startswith("eu.")"#).unwrap();
        let keys = ["eu.a", "us.b", "eu.c", "ap.d"];
        let hits: Vec<&str> = keys
            .iter()
            .filter(|k| f.matches(&envelope(k, None, "x")).unwrap())
            .copied()
            .collect();
        assert_eq!(hits, ["eu.a", "eu.c"]);
    }

    fn parse_err(expr: &str) -> String {
        let e = Filter::parse(expr).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_USAGE, "{expr}");
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        msg
    }

    #[test]
    fn malformed_expressions_name_the_position_and_the_expression() {
        for (expr, at) in [
            (".routing_key | startswith(", "'(' at column 26"),
            (".a ==", "column 6"),
            (".a | | .b", "column 6"),
            ("(.body", "column 1"),
            (r#".a == "x"#, "column 7"),
            ("", "column 1"),
            ("if . then 1", "column 12"),
            (".a |\n  nosuchfilter", "line 2, column 3"),
            ("nosuch(1)", "column 1"),
            ("$nope", "column 1"),
        ] {
            let msg = parse_err(expr);
            assert!(msg.contains(at), "{expr:?}: {msg}");
            assert!(msg.contains(&one_line(expr)), "{expr:?}: {msg}");
        }
        let msg = parse_err("nosuch(1)");
        assert!(msg.contains("undefined filter nosuch/1"), "{msg}");
        let msg = parse_err(r#"import "m" as m; ."#);
        assert!(msg.contains("no modules"), "{msg}");
    }

    #[test]
    fn filter_can_move_to_another_thread() {
        fn send<T: Send + Sync>(_: &T) {}
        send(&Filter::parse(".").unwrap());
    }
}
