//! What every `list-*` command shares: `--columns`, `--filter`, `--all-vhosts`, column specs
//! that turn management API objects into rows, sorting, and the empty-listing note.
//! Rendering (table, TSV, JSON) is output.rs's; the requests are src/mgmt/'s. No I/O here
//! except through those two.

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::mgmt::Api;
use crate::mgmt::admin::Kind;
use crate::output::{ListFormat, Listing, Out};
use regex::Regex;
use serde_json::{Map, Value};

/// `--columns a,b,c`, flattened into every listing's arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ColumnsArg {
    /// Show only these columns, in this order (comma-separated; also limits --json's fields).
    /// An unknown name is exit 2, listing the valid ones
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub columns: Vec<String>,
}

/// `--filter` and `--columns`: the options of every new listing.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only rows whose name matches this regular expression (unanchored; use ^...$)
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub filter: Option<Regex>,

    #[command(flatten)]
    pub columns: ColumnsArg,
}

/// [`ListArgs`] plus `--all-vhosts`: the options of a listing of per-vhost objects.
#[derive(Debug, Clone, clap::Args)]
pub struct VhostListArgs {
    #[command(flatten)]
    pub list: ListArgs,

    /// List every vhost's (ignores --vhost); adds a vhost column
    #[arg(long)]
    pub all_vhosts: bool,
}

/// Parse a `--filter` regular expression (a usage error when invalid).
pub fn parse_regex(s: &str) -> std::result::Result<Regex, String> {
    Regex::new(s).map_err(|e| format!("invalid regular expression: {e}"))
}

/// The columns a listing shows: the default ones, or those asked for with `--columns`.
#[derive(Debug, Clone)]
pub struct Pick {
    shown: Vec<String>,
    explicit: bool,
}

impl Pick {
    /// Check `asked` against `valid` (exit 2 naming the valid ones); nothing asked: `default`.
    pub fn new(command: &str, default: &[&str], valid: &[&str], asked: &[String]) -> Result<Pick> {
        let asked: Vec<&str> = asked
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        if asked.is_empty() {
            return Ok(Pick {
                shown: default.iter().map(|c| c.to_string()).collect(),
                explicit: false,
            });
        }
        if let Some(bad) = asked.iter().find(|c| !valid.contains(c)) {
            return Err(Error::Usage(format!(
                "{command}: unknown column '{bad}'; valid columns: {}",
                valid.join(", ")
            )));
        }
        Ok(Pick {
            shown: asked.iter().map(|c| c.to_string()).collect(),
            explicit: true,
        })
    }

    /// The columns asked for with `--columns` (None: the defaults, and in JSON every field).
    pub fn asked(&self) -> Option<&[String]> {
        self.explicit.then_some(self.shown.as_slice())
    }

    /// The columns shown (asked for, or the defaults).
    pub fn shown(&self) -> &[String] {
        &self.shown
    }

    /// An empty listing of the picked columns.
    pub fn listing(&self) -> Listing {
        let cols: Vec<&str> = self.shown.iter().map(String::as_str).collect();
        Listing::new(&cols)
    }

    /// A row as shown: with `--columns`, only those fields (JSON included).
    pub fn row(&self, mut row: Map<String, Value>) -> Map<String, Value> {
        if self.explicit {
            row = self
                .shown
                .iter()
                .map(|c| (c.clone(), row.remove(c).unwrap_or(Value::Null)))
                .collect();
        }
        row
    }
}

/// Where a column's value comes from in an API object.
#[derive(Clone, Copy)]
pub enum Src {
    /// A top-level field, as the broker sent it (numbers unrounded).
    Field(&'static str),
    /// A nested field, e.g. `["queue", "name"]`.
    Path(&'static [&'static str]),
    /// Computed from the object.
    Fn(fn(&Value) -> Value),
}

/// One column of a listing.
#[derive(Clone, Copy)]
pub struct Col {
    /// The column's name (header, `--columns` and JSON key).
    pub name: &'static str,
    /// Its value.
    pub src: Src,
}

/// A column read from a top-level field of the same name.
pub const fn field(name: &'static str) -> Col {
    Col {
        name,
        src: Src::Field(name),
    }
}

/// A column read from a field with another name.
pub const fn from(name: &'static str, key: &'static str) -> Col {
    Col {
        name,
        src: Src::Field(key),
    }
}

/// A column read from a nested field.
pub const fn path(name: &'static str, path: &'static [&'static str]) -> Col {
    Col {
        name,
        src: Src::Path(path),
    }
}

/// A computed column.
pub const fn computed(name: &'static str, f: fn(&Value) -> Value) -> Col {
    Col {
        name,
        src: Src::Fn(f),
    }
}

impl Col {
    fn value(&self, obj: &Value) -> Value {
        match self.src {
            Src::Field(k) => obj.get(k).cloned().unwrap_or(Value::Null),
            Src::Path(p) => p
                .iter()
                .try_fold(obj, |v, k| v.get(k))
                .cloned()
                .unwrap_or(Value::Null),
            Src::Fn(f) => f(obj),
        }
    }
}

/// A listing of management API objects: its columns, which show by default, how rows are
/// named (for `--filter`) and sorted.
pub struct Spec {
    /// What the management API lists.
    pub kind: Kind,
    /// The command, for messages (`list-connections`).
    pub command: &'static str,
    /// What is listed, plural (`connections`).
    pub what: &'static str,
    /// Every column a user may pick.
    pub cols: &'static [Col],
    /// The columns shown without `--columns`.
    pub default: &'static [&'static str],
    /// The column `--filter` matches.
    pub name: &'static str,
    /// Sort by these columns' text.
    pub sort: &'static [&'static str],
    /// Fields of the broker's objects never shown, not even with `--json`.
    pub hidden: &'static [&'static str],
}

impl Spec {
    /// Check `--columns` before anything is asked of the broker; `all_vhosts` puts a vhost
    /// column first in the default ones.
    pub fn pick(&self, columns: &ColumnsArg, all_vhosts: bool) -> Result<Pick> {
        let valid: Vec<&str> = self.cols.iter().map(|c| c.name).collect();
        let mut default = self.default.to_vec();
        if all_vhosts && valid.contains(&"vhost") && !default.contains(&"vhost") {
            default.insert(0, "vhost");
        }
        Pick::new(self.command, &default, &valid, &columns.columns)
    }

    /// Run the listing: check the options, ask the API (of the connection's vhost, or of
    /// all with `all_vhosts`, for objects that belong to a vhost), print.
    pub fn run(&self, ctx: &Ctx, args: &ListArgs, all_vhosts: bool) -> Result<()> {
        let pick = self.pick(&args.columns, all_vhosts)?;
        let api = Api::new(ctx)?;
        let vhost = (self.kind.per_vhost() && !all_vhosts).then(|| api.vhost().to_string());
        let objects = api.list(self.kind, vhost.as_deref())?;
        let listing = self.listing(&pick, objects, args.filter.as_ref());
        let scope = if self.kind.per_vhost() {
            Scope::of(vhost.as_deref())
        } else {
            Scope::Broker
        };
        print(
            &listing,
            ctx.json(),
            self.what,
            scope,
            args.filter.is_some(),
        )
    }

    /// The rows of `objects`, filtered and sorted. Without `--columns`, a JSON row is the
    /// broker's object (less `hidden` fields) with the computed columns added.
    pub fn listing(&self, pick: &Pick, objects: Vec<Value>, filter: Option<&Regex>) -> Listing {
        let mut listing = pick.listing();
        for row in self.rows(pick, objects, filter) {
            listing.push(row);
        }
        listing
    }

    /// The rows [`Spec::listing`] shows.
    pub fn rows(
        &self,
        pick: &Pick,
        objects: Vec<Value>,
        filter: Option<&Regex>,
    ) -> Vec<Map<String, Value>> {
        let mut rows: Vec<Map<String, Value>> = objects
            .into_iter()
            .filter_map(|obj| {
                let mut row = match obj {
                    Value::Object(m) => m,
                    _ => return None,
                };
                let whole = Value::Object(row.clone());
                for c in self.cols {
                    row.insert(c.name.to_string(), c.value(&whole));
                }
                for h in self.hidden {
                    row.remove(*h);
                }
                Some(row)
            })
            .filter(|row| filter.is_none_or(|re| re.is_match(&text(row.get(self.name)))))
            .collect();
        rows.sort_by_cached_key(|r| {
            self.sort
                .iter()
                .map(|k| text(r.get(*k)))
                .collect::<Vec<String>>()
        });
        rows.into_iter().map(|r| pick.row(r)).collect()
    }
}

fn text(v: Option<&Value>) -> String {
    v.map(crate::output::cell_text).unwrap_or_default()
}

/// Print a listing in the format `--json` and stdout call for; an empty table gets a note on
/// stderr ("no connections in vhost '/'").
pub fn print(
    listing: &Listing,
    json: bool,
    what: &str,
    scope: Scope<'_>,
    filtered: bool,
) -> Result<()> {
    let format = ListFormat::detect(json);
    if listing.is_empty() && format == ListFormat::Table {
        crate::log::note(&empty_note(what, scope, filtered));
    }
    Out::new().listing(listing, format)
}

/// Which vhosts a listing covers, for the empty note.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// One vhost.
    Vhost(&'a str),
    /// Every vhost.
    AllVhosts,
    /// Not per vhost (users, nodes).
    Broker,
}

impl<'a> Scope<'a> {
    /// One vhost, or all.
    pub fn of(vhost: Option<&'a str>) -> Scope<'a> {
        vhost.map_or(Scope::AllVhosts, Scope::Vhost)
    }
}

/// "no queues in vhost '/'" and the like, for an empty table.
pub fn empty_note(what: &str, scope: Scope<'_>, filtered: bool) -> String {
    let place = match scope {
        Scope::Vhost(v) => format!(" in vhost '{v}'"),
        Scope::AllVhosts => " in any vhost".to_string(),
        Scope::Broker => String::new(),
    };
    if filtered {
        format!("no {what}{place} match the filter")
    } else {
        format!("no {what}{place}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_columns_are_usage_errors_listing_the_valid_ones() {
        let e = Pick::new("list-x", &["a"], &["a", "b"], &["b".into(), "zz".into()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("unknown column 'zz'; valid columns: a, b"),
            "{e}"
        );
    }

    #[test]
    fn picked_columns_limit_rows_and_keep_their_order() {
        let p = Pick::new(
            "list-x",
            &["a"],
            &["a", "b", "c"],
            &["c".into(), "a".into()],
        )
        .unwrap();
        let row: Map<String, Value> = json!({"a": 1, "b": 2.5}).as_object().unwrap().clone();
        assert_eq!(Value::Object(p.row(row)), json!({"c": null, "a": 1}));
    }

    #[test]
    fn specs_compute_columns_filter_sort_and_hide() {
        const COLS: &[Col] = &[field("name"), path("q", &["queue", "name"])];
        let spec = Spec {
            kind: Kind::Users,
            command: "list-x",
            what: "xs",
            cols: COLS,
            default: &["name", "q"],
            name: "name",
            sort: &["name"],
            hidden: &["secret"],
        };
        let pick = spec.pick(&ColumnsArg::default(), true).unwrap();
        let objs = vec![
            json!({"name": "b", "queue": {"name": "qb"}, "secret": "x", "rate": 0.123456789}),
            json!({"name": "a", "queue": {"name": "qa"}}),
            json!({"name": "zz"}),
        ];
        let re = Regex::new("^[ab]$").unwrap();
        let rows = spec.rows(&pick, objs, Some(&re));
        assert_eq!(rows.len(), 2);
        let v = Value::Array(rows.into_iter().map(Value::Object).collect());
        assert_eq!(v[0]["name"], "a");
        assert_eq!(v[1]["q"], "qb");
        assert_eq!(v[1]["rate"], json!(0.123456789));
        assert!(v[1].get("secret").is_none());
    }
}
