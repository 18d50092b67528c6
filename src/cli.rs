//! Command-line definition: the global options, the list of subcommands, and parsing (with
//! the one-line error for a negative number given to a numeric option). Each subcommand's
//! own options live in its file under `commands/`; nothing here runs a command or prints.

use crate::commands;
use negative::allow_negative_numbers;
pub use negative::negative_number_error;

mod negative;
use clap::{Args, CommandFactory, FromArgMatches, Parser};
use std::ffi::OsString;
use std::path::PathBuf;

/// Produce, consume and administer RabbitMQ queues from the shell
///
/// The six RabbitMQ tutorials as one-liners, plus admin commands and scripting power
/// (pipes, JSON, exit codes). Connects to amqp://guest:guest@localhost:5672/%2f unless
/// told otherwise (--url, RMQ_URL, or a profile of ~/.config/rmq/config.toml: --profile).
#[derive(Debug, Parser)]
#[command(
    name = "rmq",
    version,
    max_term_width = 100,
    propagate_version = true,
    help_template = HELP_TEMPLATE,
    after_help = TUTORIALS,
    after_long_help = TUTORIALS
)]
pub struct Cli {
    /// Options that apply to every subcommand.
    #[command(flatten)]
    pub global: GlobalOpts,

    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level help: the subcommands grouped by what they are for (a test checks every
/// subcommand is listed here).
const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

Messaging (the tutorials):
  send                Publish messages (tutorials 1-5; 2: new_task)
  receive             Consume messages and print them (tutorials 1, 3, 4, 5)
  worker              Work on a queue: the tutorial worker, or a command per message (2, 6)
  call                Send a request and print the reply (tutorial 6: the RPC client)
  peek                Show messages in a queue without removing them
  move                Move messages from a queue to another queue or exchange, losing none
  perf                Generate load and measure rates and latency (like PerfTest)

Administration:
  exchange-declare    Declare an exchange
  queue-declare       Declare a queue
  bind                Bind a queue to an exchange
  unbind              Remove a binding
  queue-purge         Remove all ready messages from a queue
  queue-delete        Delete a queue
  exchange-delete     Delete an exchange
  list-queues         List queues (management HTTP API)
  list-exchanges      List exchanges (management HTTP API)
  list-bindings       List bindings (management HTTP API)

Day-2 administration (management HTTP API):
  overview            Show the cluster: versions, nodes and alarms, totals, rates
  list-connections    List client connections
  list-channels       List channels
  list-consumers      List consumers
  list-vhosts         List virtual hosts
  list-users          List users
  list-permissions    List permissions
  list-policies       List policies
  list-nodes          List the cluster's nodes
  health-check        Ask the broker's health checks (exit 9 when unhealthy)
  close-connection    Close client connections (by name or user)
  definitions-export  Export the broker's definitions (JSON)
  definitions-import  Import definitions (--dry-run: list changes)
  vhost-declare       Create a virtual host
  vhost-delete        Delete a virtual host and all in it
  user-declare        Create or update a user
  user-delete         Delete a user
  permissions-set     Set a user's permissions in a vhost
  permissions-clear   Remove a user's permissions in a vhost
  policy-declare      Create or replace a policy
  policy-delete       Delete a policy

Operators' view:
  profiles            List the connection profiles of the config file
  top                 Watch the queues of a vhost live (NDJSON on a pipe)
  tree                Show the topology: exchange -> binding key -> queue (--dot: Graphviz)

Shell:
  completions         Print a shell completion script
  man                 Print the man page
  help                Print the help of a subcommand

Options:
{options}
{after-help}";

const TUTORIALS: &str = "\
The tutorials as one-liners:
  1 hello world  rmq send -Q hello 'Hello World!'      rmq receive -Q hello
  2 work queues  rmq send -p 'A task...'               rmq worker
  3 pub/sub      rmq send -e logs -t fanout 'info: hi' rmq receive -e logs -t fanout
  4 routing      rmq send -e direct_logs -t direct -k error 'boom'
                 rmq receive -e direct_logs -t direct -b warning -b error
  5 topics       rmq send -e topic_logs -t topic -k kern.critical 'disk full'
                 rmq receive -e topic_logs -t topic -b 'kern.*' -b '*.critical'
  6 RPC          rmq worker -Q rpc_queue -- ./fib      rmq call -Q rpc_queue 30

Exit codes: 0 ok, 1 error, 2 usage, 3 unreachable, 4 access refused, 5 not found,
6 precondition failed, 7 unroutable/nacked, 8 timeout, 9 unhealthy. See `rmq man` for more.";

/// The `Command` enum and its clap traits, written out by hand rather than derived so that
/// `parse` can leave the other subcommands out. What each subcommand gets is what
/// `#[derive(Subcommand)]` gives a variant without attributes: `Args::augment_args` on a
/// `clap::Command` of its kebab-case name.
macro_rules! subcommands {
    ($($variant:ident($args:ty) = $name:literal,)*) => {
        /// The subcommands.
        #[derive(Debug)]
        pub enum Command {
            $($variant($args),)*
        }

        /// Every subcommand's name, as typed.
        pub const NAMES: &[&str] = &[$($name),*];

        impl clap::FromArgMatches for Command {
            fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
                Self::from_arg_matches_mut(&mut m.clone())
            }

            fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
                let Some((name, mut sub)) = m.remove_subcommand() else {
                    return Err(clap::Error::raw(
                        clap::error::ErrorKind::MissingSubcommand,
                        "a subcommand is required but one was not provided",
                    ));
                };
                match name.as_str() {
                    $($name => Ok(Command::$variant(
                        <$args as clap::FromArgMatches>::from_arg_matches_mut(&mut sub)?,
                    )),)*
                    other => Err(clap::Error::raw(
                        clap::error::ErrorKind::InvalidSubcommand,
                        format!("the subcommand '{other}' wasn't recognized"),
                    )),
                }
            }

            fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
                self.update_from_arg_matches_mut(&mut m.clone())
            }

            fn update_from_arg_matches_mut(
                &mut self,
                m: &mut clap::ArgMatches,
            ) -> Result<(), clap::Error> {
                *self = Self::from_arg_matches_mut(m)?;
                Ok(())
            }
        }

        impl clap::Subcommand for Command {
            fn augment_subcommands(cmd: clap::Command) -> clap::Command {
                let only = ONLY.get();
                $(let cmd = if only.is_none_or(|o| o == $name) {
                    cmd.subcommand(<$args as clap::Args>::augment_args(clap::Command::new($name)))
                } else {
                    cmd
                };)*
                cmd
            }

            fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_subcommands(cmd)
            }

            fn has_subcommand(name: &str) -> bool {
                NAMES.contains(&name)
            }
        }
    };
}
subcommands! {
    Send(commands::send::Args) = "send",
    Receive(commands::receive::Args) = "receive",
    Peek(commands::peek::Args) = "peek",
    Worker(commands::worker::Args) = "worker",
    Call(commands::call::Args) = "call",
    Perf(commands::perf::Args) = "perf",
    Move(commands::r#move::Args) = "move",
    // Administration. Each command's short and long help come from its own `Args` doc
    // comment.
    ExchangeDeclare(commands::exchange_declare::Args) = "exchange-declare",
    QueueDeclare(commands::queue_declare::Args) = "queue-declare",
    Bind(commands::bind::Args) = "bind",
    Unbind(commands::bind::UnbindArgs) = "unbind",
    QueuePurge(commands::queue_purge::Args) = "queue-purge",
    QueueDelete(commands::queue_delete::Args) = "queue-delete",
    ExchangeDelete(commands::exchange_delete::Args) = "exchange-delete",
    ListQueues(commands::list_queues::Args) = "list-queues",
    ListExchanges(commands::list_exchanges::Args) = "list-exchanges",
    ListBindings(commands::list_bindings::Args) = "list-bindings",
    // Day-2 administration (issue 14).
    Overview(commands::overview::Args) = "overview",
    ListConnections(commands::list_connections::Args) = "list-connections",
    ListChannels(commands::list_channels::Args) = "list-channels",
    ListConsumers(commands::list_consumers::Args) = "list-consumers",
    ListVhosts(commands::list_vhosts::Args) = "list-vhosts",
    ListUsers(commands::list_users::Args) = "list-users",
    ListPermissions(commands::list_permissions::Args) = "list-permissions",
    ListPolicies(commands::list_policies::Args) = "list-policies",
    ListNodes(commands::list_nodes::Args) = "list-nodes",
    HealthCheck(commands::health_check::Args) = "health-check",
    CloseConnection(commands::close_connection::Args) = "close-connection",
    DefinitionsExport(commands::definitions_export::Args) = "definitions-export",
    DefinitionsImport(commands::definitions_import::Args) = "definitions-import",
    VhostDeclare(commands::vhost_declare::Args) = "vhost-declare",
    VhostDelete(commands::vhost_delete::Args) = "vhost-delete",
    UserDeclare(commands::user_declare::Args) = "user-declare",
    UserDelete(commands::user_delete::Args) = "user-delete",
    PermissionsSet(commands::permissions_set::Args) = "permissions-set",
    PermissionsClear(commands::permissions_clear::Args) = "permissions-clear",
    PolicyDeclare(commands::policy_declare::Args) = "policy-declare",
    PolicyDelete(commands::policy_delete::Args) = "policy-delete",
    // Operators' view (issue 15).
    Profiles(commands::profiles::Args) = "profiles",
    Top(commands::top::Args) = "top",
    Tree(commands::tree::Args) = "tree",
    // Shell integration.
    Completions(commands::completions::Args) = "completions",
    Man(commands::man::Args) = "man",
}

/// Parse the process's arguments.
///
/// clap's definition of all the subcommands costs more to build than the rest of a
/// one-message `rmq send` start-up spends on its own work, so the command line is first
/// parsed against a definition holding only the subcommand it names. Whatever does not parse
/// that way (help, errors, a name that was an option's value) is parsed again against the
/// full definition, which then gives exactly the result or error it always did.
pub fn parse() -> Result<Cli, clap::Error> {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(name) = named_subcommand(&args) {
        ONLY.set(Some(name));
        let pruned = parse_from(&args);
        ONLY.set(None);
        if let Ok(cli) = pruned {
            return Ok(cli);
        }
    }
    parse_from(&args)
}

/// `Cli::try_parse_from`, except that numeric options take a negative number as their value
/// (see [`negative_number_error`]).
fn parse_from(args: &[OsString]) -> Result<Cli, clap::Error> {
    let mut cmd = allow_negative_numbers(Cli::command());
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))
}

/// The first argument that is a subcommand's name.
fn named_subcommand(args: &[OsString]) -> Option<&'static str> {
    args.iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find_map(|a| NAMES.iter().copied().find(|n| *n == a))
}

thread_local! {
    /// While set, clap's definition holds only this subcommand (see `parse`).
    static ONLY: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Connection and output options, valid before or after the subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list
    /// several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read
    /// from AMQP_URL]
    #[arg(
        long,
        global = true,
        env = "RMQ_URL",
        value_delimiter = ',',
        value_name = "URL",
        hide_env_values = true
    )]
    pub url: Vec<String>,

    /// Host name, overriding the one in the URL
    #[arg(long, global = true, value_name = "HOST")]
    pub host: Option<String>,

    /// Port, overriding the one in the URL
    #[arg(long, global = true, value_name = "PORT", value_parser = parse_port_arg)]
    pub port: Option<u16>,

    /// User name, overriding the one in the URL
    #[arg(long, global = true, value_name = "USER")]
    pub user: Option<String>,

    /// Password, overriding the URL's (prefer RMQ_PASSWORD or --password-file: argv is
    /// visible in `ps`)
    #[arg(
        long,
        global = true,
        env = "RMQ_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Read the password from this file (first line)
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Virtual host, overriding the one in the URL
    #[arg(long, global = true, value_name = "VHOST")]
    pub vhost: Option<String>,

    /// Seconds allowed for the TCP connect plus the AMQP handshake
    #[arg(long, global = true, value_name = "SECS", default_value = "5", value_parser = parse_secs)]
    pub connect_timeout: f64,

    /// AMQP heartbeat interval in seconds (overrides the URL's ?heartbeat=; 0 turns it off):
    /// a broker that goes silent is noticed within about twice this
    #[arg(long, global = true, value_name = "SECS",
          value_parser = clap::value_parser!(u16))]
    pub heartbeat: Option<u16>,

    /// CA certificate bundle (PEM) to trust for amqps:// and https://
    #[arg(long, global = true, value_name = "FILE")]
    pub cacert: Option<String>,

    /// Client certificate (PEM) for amqps://
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<String>,

    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<String>,

    /// Skip TLS certificate verification (prints a warning)
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Management HTTP API URL [default: http://<host>:15672]
    #[arg(
        long,
        global = true,
        env = "RMQ_API_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub api_url: Option<String>,

    /// Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else
    /// ~/.config/rmq/config.toml); flags and environment variables override its keys [default:
    /// the file's default_profile]
    #[arg(
        long,
        global = true,
        env = "RMQ_PROFILE",
        value_name = "NAME",
        hide_env_values = true
    )]
    pub profile: Option<String>,

    /// What the chosen profile says about the user, vhost and password: below the flags,
    /// above the URL's own (filled in by `profile::resolve`, never by clap).
    #[arg(skip)]
    pub from_profile: crate::profile::Parts,

    /// Machine-readable output (see each command)
    #[arg(long, global = true)]
    pub json: bool,

    /// Print less on stderr (no summaries or progress)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more on stderr (-v: what is used; -vv: debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

fn parse_port_arg(s: &str) -> Result<u16, String> {
    crate::endpoint::parse_port(s)
}

/// Parse a non-negative number of seconds.
pub fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..1e9).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of seconds (e.g. 5 or 0.5), got '{s}'"
        )),
    }
}

/// Parse a strictly positive number of seconds.
pub fn parse_positive_secs(s: &str) -> Result<f64, String> {
    match parse_secs(s)? {
        v if v > 0.0 => Ok(v),
        _ => Err("must be greater than 0".into()),
    }
}

/// `-t, --type` values: the AMQP layer's exchange kinds, named for the command line here so
/// that src/amqp/ does not depend on clap.
impl clap::ValueEnum for crate::amqp::ExchangeKind {
    fn value_variants<'a>() -> &'a [Self] {
        use crate::amqp::ExchangeKind as K;
        &[K::Fanout, K::Direct, K::Topic, K::Headers]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use crate::amqp::ExchangeKind as K;
        let help = match self {
            K::Fanout => "Every bound queue gets a copy",
            K::Direct => "Routing key equals binding key",
            K::Topic => "Routing key matches a pattern with `*` and `#`",
            K::Headers => "Headers match binding arguments",
        };
        Some(clap::builder::PossibleValue::new(self.as_str()).help(help))
    }
}
