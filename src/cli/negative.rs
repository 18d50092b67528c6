//! Negative numbers for numeric options: clap would read `--timeout -3` as a flag `-3`;
//! here such options take it as their value, and the value parser's refusal becomes one line
//! naming the option and its range. Parsing itself is cli.rs.

use super::Cli;
use clap::CommandFactory;
use std::ffi::OsString;

// ---------------------------------------------------------------------------------------------
// Negative numbers
//
// clap reads `--timeout -3` as the option without a value followed by an unknown flag `-3`,
// and answers with "unexpected argument '-3' found" and a usage block. So every option whose
// value is an integer or a float (found by its value parser's type: new options are covered
// without a list) takes a negative number as its value; its value parser then rejects it,
// and `negative_number_error` turns that error into one line naming the option and what it
// accepts. Options of other types (a BODY word, `--header k=-3`) are left as they are.
// ---------------------------------------------------------------------------------------------

/// What a numeric option's value is, by the type its value parser returns.
#[derive(Clone, Copy, Debug)]
enum Numeric {
    /// An integer type, with its bounds.
    Int { min: i128, max: i128 },
    /// A floating-point type.
    Float,
}

fn numeric(arg: &clap::Arg) -> Option<Numeric> {
    use std::any::TypeId;
    if !arg.get_action().takes_values() {
        return None; // e.g. `-v` counts into a u8 but takes no value
    }
    let t = arg.get_value_parser().type_id();
    macro_rules! ints {
        ($($ty:ty),*) => {
            $(if t == TypeId::of::<$ty>() {
                return Some(Numeric::Int { min: <$ty>::MIN as i128, max: <$ty>::MAX as i128 });
            })*
        };
    }
    ints!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);
    if t == TypeId::of::<f64>() || t == TypeId::of::<f32>() {
        return Some(Numeric::Float);
    }
    None
}

/// Is this option's value a number (an integer or a float)?
pub fn is_numeric(arg: &clap::Arg) -> bool {
    numeric(arg).is_some()
}

/// Let every numeric option of `cmd` and its subcommands take a negative number as a value.
pub(super) fn allow_negative_numbers(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| {
        if is_numeric(&a) {
            a.allow_negative_numbers(true)
        } else {
            a
        }
    })
    .mut_subcommands(allow_negative_numbers)
}

/// `-3`, `-0.5`, `-1e3` (not `-x`, `-inf`).
fn is_negative_number(s: &str) -> bool {
    s.strip_prefix('-').is_some_and(|n| {
        n.starts_with(|c: char| c.is_ascii_digit() || c == '.') && n.parse::<f64>().is_ok()
    })
}

/// When clap's error is a numeric option refusing a negative number, the one-line usage
/// error for it, e.g. `--timeout must be a number of seconds ≥ 0, got '-3'`.
pub fn negative_number_error(args: &[OsString], e: &clap::Error) -> Option<crate::error::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let value = context(ContextKind::InvalidValue)?;
    let shown = context(ContextKind::InvalidArg)?; // e.g. "--timeout <SECS>"
    if !is_negative_number(value) {
        return None;
    }
    // Global options are the top level's; the others are the subcommand's (which clap tells
    // when it is asked to parse on past errors: a name given as an option's value is not one).
    let mut cmd = Cli::command();
    cmd.build(); // an argument shows as "--timeout <SECS>" only once built
    let find = |c: &clap::Command| c.get_arguments().find(|a| a.to_string() == shown).cloned();
    let arg = find(&cmd).or_else(|| {
        let parsed = allow_negative_numbers(Cli::command())
            .ignore_errors(true)
            .try_get_matches_from(args)
            .ok()?;
        find(cmd.find_subcommand(parsed.subcommand_name()?)?)
    })?;
    let kind = numeric(&arg)?;
    let option = match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => shown.to_string(),
    };
    Some(crate::error::Error::Usage(format!(
        "{option} must be {}, got '{value}'",
        accepted(&arg, kind)
    )))
}

/// What `arg` accepts, in words ("an integer from 1 to 65535", "a number of seconds ≥ 0"),
/// found by asking its value parser: the bounds live in each option's own definition.
fn accepted(arg: &clap::Arg, kind: Numeric) -> String {
    let unit = match arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|n| n.as_str())
    {
        Some("SECS") => " of seconds",
        Some("MS") => " of milliseconds",
        Some("BYTES") => " of bytes",
        _ => "",
    };
    let accepts = |v: i128| parser_takes(arg, &v.to_string());
    match kind {
        Numeric::Float if accepts(0) => format!("a number{unit} ≥ 0"),
        Numeric::Float if parser_takes(arg, "1e-9") => format!("a number{unit} > 0"),
        Numeric::Float => format!("a number{unit}"),
        Numeric::Int { min, max } => {
            let what = if unit.is_empty() {
                "an integer".to_string()
            } else {
                format!("a whole number{unit}")
            };
            // Any accepted value; the accepted ones are taken to be one interval around it.
            let defaults = arg.get_default_values().iter();
            let Some(seed) = defaults
                .filter_map(|d| d.to_str()?.parse::<i128>().ok())
                .chain([0, 1])
                .chain((1..127).map(|k| 1i128 << k))
                .filter(|v| (min..=max).contains(v))
                .find(|v| accepts(*v))
            else {
                return what;
            };
            let lo = edge(min, seed, &accepts);
            let hi = edge(max, seed, &accepts);
            if hi >= i128::from(i64::MAX) {
                format!("{what} ≥ {lo}")
            } else {
                format!("{what} from {lo} to {hi}")
            }
        }
    }
}

/// The accepted value nearest `far`, between `far` and the accepted `seed` (binary search).
fn edge(far: i128, seed: i128, accepts: &dyn Fn(i128) -> bool) -> i128 {
    if accepts(far) {
        return far;
    }
    let (mut bad, mut good) = (far, seed);
    while (good - bad).abs() > 1 {
        let mid = bad + (good - bad) / 2;
        if accepts(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// Does `arg`'s value parser take `value`?
fn parser_takes(arg: &clap::Arg, value: &str) -> bool {
    let probe = clap::Arg::new("value")
        .value_parser(arg.get_value_parser().clone())
        .allow_negative_numbers(true);
    clap::Command::new("probe")
        .no_binary_name(true)
        .arg(probe)
        .try_get_matches_from([value])
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_numbers_are_told_from_flags() {
        for yes in ["-3", "-0.5", "-.5", "-1e3", "-0"] {
            assert!(is_negative_number(yes), "{yes}");
        }
        for no in ["3", "-", "-x", "-inf", "-nan", "--3", "-3x", ""] {
            assert!(!is_negative_number(no), "{no}");
        }
    }

    #[test]
    fn edge_finds_the_last_accepted_value() {
        let in_8_to_1000 = |v: i128| (8..=1000).contains(&v);
        assert_eq!(edge(0, 100, &in_8_to_1000), 8);
        assert_eq!(edge(i128::from(u32::MAX), 100, &in_8_to_1000), 1000);
        assert_eq!(edge(0, 8, &in_8_to_1000), 8);
        assert_eq!(edge(1000, 8, &in_8_to_1000), 1000);
    }

    #[test]
    fn every_numeric_option_takes_negative_numbers_at_parse_time() {
        let cmd = allow_negative_numbers(Cli::command());
        let mut seen = 0;
        for sub in std::iter::once(&cmd).chain(cmd.get_subcommands()) {
            for a in sub.get_arguments().filter(|a| is_numeric(a)) {
                assert!(a.is_allow_negative_numbers_set(), "{:?}", a.get_id());
                seen += 1;
            }
        }
        assert!(seen > 20, "only {seen} numeric options");
    }
}
