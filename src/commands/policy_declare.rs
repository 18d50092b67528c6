//! `rmq policy-declare`: create or replace a policy; `--definition` values are typed like
//! `--arg` (src/kv.rs).

use crate::ctx::Ctx;
use crate::error::Result;
use crate::kv::KvParser;
use crate::listing::parse_regex;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq policy-declare ttl --pattern '^cache\\.' --definition message-ttl=60000
  rmq policy-declare dlx --pattern '.*' --apply-to queues --priority 1 \\
      --definition dead-letter-exchange=dlx --definition max-length=10000
  rmq policy-declare ha --pattern '^orders' --definition queue-mode=lazy --vhost prod";

/// What a policy applies to.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ApplyTo {
    /// Queues only
    Queues,
    /// Exchanges only
    Exchanges,
    /// Queues and exchanges
    All,
}

/// Create or replace a policy
///
/// A policy sets arguments (message-ttl, max-length, dead-letter-exchange, ...) on every
/// queue or exchange of the vhost (--vhost, or the URL's) whose name matches --pattern; of
/// several matching policies the highest --priority wins. --definition k=v values are typed:
/// integers and true/false become numbers and booleans. A bad key is exit 2 with the
/// broker's words.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the policy
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Names of the queues/exchanges it applies to (regular expression)
    #[arg(long, value_name = "RE", value_parser = parse_regex)]
    pub pattern: regex::Regex,

    /// What it applies to
    #[arg(long, value_name = "KIND", default_value = "all")]
    pub apply_to: ApplyTo,

    /// Priority among matching policies (higher wins)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub priority: i64,

    /// A key=value of the definition (repeatable), e.g. message-ttl=60000
    #[arg(long, value_name = "K=V", required = true, value_parser = KvParser)]
    pub definition: Vec<(String, crate::amqp::Value)>,
}

/// Run `rmq policy-declare`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let definition = crate::envelope::table_to_json(&crate::kv::table(&args.definition));
    let apply_to = match args.apply_to {
        ApplyTo::Queues => "queues",
        ApplyTo::Exchanges => "exchanges",
        ApplyTo::All => "all",
    };
    let body = serde_json::json!({
        "pattern": args.pattern.as_str(),
        "apply-to": apply_to,
        "priority": args.priority,
        "definition": definition,
    });
    let api = Api::new(ctx)?;
    let vhost = api.vhost().to_string();
    api.policy_put(&vhost, &args.name, &body)?;
    let mut json = body;
    json["name"] = args.name.clone().into();
    json["vhost"] = vhost.clone().into();
    crate::changes::done(
        ctx,
        &format!(
            "declared policy '{}' in vhost '{vhost}' for {apply_to} matching '{}'",
            args.name,
            args.pattern.as_str()
        ),
        json,
    )
}
