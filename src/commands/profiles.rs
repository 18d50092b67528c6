//! `rmq profiles`: the connection profiles of the config file (name, redacted URLs, API
//! URL, vhost, user, which is the default); never a password.

use crate::ctx::Ctx;
use crate::endpoint::redact_url;
use crate::error::Result;
use crate::listing::{ColumnsArg, Pick, Scope};
use crate::profile::{Config, Password, Profile};
use serde_json::{Map, Value, json};

const EXAMPLES: &str = "\
Examples:
  rmq profiles
  rmq profiles --json | jq -r '.[].name'
  rmq --profile staging list-queues
  RMQ_PROFILE=prod rmq overview

A config file (~/.config/rmq/config.toml, or $RMQ_CONFIG):
  default_profile = \"local\"

  [profiles.local]
  url = \"amqp://localhost:5672\"

  [profiles.prod]
  url = [\"amqps://rabbit-1.example.com\", \"amqps://rabbit-2.example.com\"]
  api_url = \"https://rabbit.example.com:15671\"
  user = \"ops\"
  password_file = \"~/.config/rmq/prod.password\"
  vhost = \"orders\"
  cacert = \"/etc/ssl/rabbit-ca.pem\"";

/// List the connection profiles of the config file
///
/// The config file is $RMQ_CONFIG, else $XDG_CONFIG_HOME/rmq/config.toml
/// (~/.config/rmq/config.toml). Each [profiles.NAME] table may hold url (a string or a list:
/// several nodes, tried in order), api_url, user, password_file, password, vhost, cacert,
/// cert, key and insecure; default_profile = "NAME" at the top picks one when neither
/// --profile nor RMQ_PROFILE does. Flags and environment variables (RMQ_URL, AMQP_URL,
/// RMQ_PASSWORD, RMQ_API_URL) override a profile's keys; a URL from them names another
/// broker, and then the profile's url, user, password, vhost and api_url are not used. A
/// password key is refused (exit 2) unless only the file's owner can read the file (chmod
/// 600); password_file is the better place. Passwords are never shown, not even those inside
/// URLs.
///
/// Columns: name, url, api_url, vhost, user, default. Also: password_from (where the password comes from:
/// "file PATH" or "config"), cacert, cert, key, insecure.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub columns: ColumnsArg,
}

const DEFAULT: &[&str] = &["name", "url", "api_url", "vhost", "user", "default"];
const VALID: &[&str] = &[
    "name",
    "url",
    "api_url",
    "vhost",
    "user",
    "default",
    "password_from",
    "cacert",
    "cert",
    "key",
    "insecure",
];

/// Run `rmq profiles`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let pick = Pick::new("profiles", DEFAULT, VALID, &args.columns.columns)?;
    let config = crate::profile::load()?;
    crate::log::info(&format!("profiles from {}", config.path_shown()));
    let mut listing = pick.listing();
    for (name, p) in &config.profiles {
        listing.push(pick.row(row(&config, name, p)));
    }
    let what = match &config.path {
        Some(_) => format!("profiles in {}", config.path_shown()),
        None => format!("profiles: {}", config.path_shown()),
    };
    crate::listing::print(&listing, ctx.json(), &what, Scope::Broker, false)
}

/// One profile as a row: URLs redacted, the password only as where it comes from.
fn row(config: &Config, name: &str, p: &Profile) -> Map<String, Value> {
    let urls: Vec<String> = p.urls.iter().map(|u| redact_url(u)).collect();
    let password = match &p.password {
        None => Value::Null,
        Some(Password::File(f)) => json!(format!("file {}", f.display())),
        Some(Password::Inline(_)) => json!("config"),
    };
    let fields = json!({
        "name": name,
        "url": urls.join(","),
        "urls": urls,
        "api_url": p.api_url.as_deref().map(redact_url),
        "vhost": p.vhost,
        "user": p.user,
        "default": config.default_profile.as_deref() == Some(name),
        "password_from": password,
        "cacert": p.cacert,
        "cert": p.cert,
        "key": p.key,
        "insecure": p.insecure,
    });
    match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
