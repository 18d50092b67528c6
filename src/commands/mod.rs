//! One file per subcommand; this only dispatches.

pub mod bind;
pub mod call;
pub mod close_connection;
pub mod completions;
pub mod definitions_export;
pub mod definitions_import;
pub mod exchange_declare;
pub mod exchange_delete;
pub mod health_check;
pub mod list_bindings;
pub mod list_channels;
pub mod list_connections;
pub mod list_consumers;
pub mod list_exchanges;
pub mod list_nodes;
pub mod list_permissions;
pub mod list_policies;
pub mod list_queues;
pub mod list_users;
pub mod list_vhosts;
pub mod man;
pub mod r#move;
pub mod overview;
pub mod peek;
pub mod perf;
pub mod permissions_clear;
pub mod permissions_set;
pub mod policy_declare;
pub mod policy_delete;
pub mod profiles;
pub mod queue_declare;
pub mod queue_delete;
pub mod queue_purge;
pub mod receive;
pub mod send;
pub mod top;
pub mod tree;
pub mod user_declare;
pub mod user_delete;
pub mod vhost_declare;
pub mod vhost_delete;
pub mod worker;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::Result;

/// Run a parsed subcommand.
pub fn dispatch(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Send(a) => send::run(a, ctx),
        Command::Receive(a) => receive::run(a, ctx),
        Command::Peek(a) => peek::run(a, ctx),
        Command::Perf(a) => perf::run(a, ctx),
        Command::Worker(a) => worker::run(a, ctx),
        Command::Call(a) => call::run(a, ctx),
        Command::Move(a) => r#move::run(a, ctx),
        Command::ExchangeDeclare(a) => exchange_declare::run(a, ctx),
        Command::QueueDeclare(a) => queue_declare::run(a, ctx),
        Command::Bind(a) => bind::run(a, ctx),
        Command::Unbind(a) => bind::run_unbind(a, ctx),
        Command::QueuePurge(a) => queue_purge::run(a, ctx),
        Command::QueueDelete(a) => queue_delete::run(a, ctx),
        Command::ExchangeDelete(a) => exchange_delete::run(a, ctx),
        Command::ListQueues(a) => list_queues::run(a, ctx),
        Command::ListExchanges(a) => list_exchanges::run(a, ctx),
        Command::ListBindings(a) => list_bindings::run(a, ctx),
        Command::ListConnections(a) => list_connections::run(a, ctx),
        Command::ListChannels(a) => list_channels::run(a, ctx),
        Command::ListConsumers(a) => list_consumers::run(a, ctx),
        Command::ListVhosts(a) => list_vhosts::run(a, ctx),
        Command::ListUsers(a) => list_users::run(a, ctx),
        Command::ListPermissions(a) => list_permissions::run(a, ctx),
        Command::ListPolicies(a) => list_policies::run(a, ctx),
        Command::ListNodes(a) => list_nodes::run(a, ctx),
        Command::HealthCheck(a) => health_check::run(a, ctx),
        Command::Overview(a) => overview::run(a, ctx),
        Command::DefinitionsExport(a) => definitions_export::run(a, ctx),
        Command::DefinitionsImport(a) => definitions_import::run(a, ctx),
        Command::CloseConnection(a) => close_connection::run(a, ctx),
        Command::VhostDeclare(a) => vhost_declare::run(a, ctx),
        Command::VhostDelete(a) => vhost_delete::run(a, ctx),
        Command::UserDeclare(a) => user_declare::run(a, ctx),
        Command::UserDelete(a) => user_delete::run(a, ctx),
        Command::PermissionsSet(a) => permissions_set::run(a, ctx),
        Command::PermissionsClear(a) => permissions_clear::run(a, ctx),
        Command::PolicyDeclare(a) => policy_declare::run(a, ctx),
        Command::PolicyDelete(a) => policy_delete::run(a, ctx),
        Command::Profiles(a) => profiles::run(a, ctx),
        Command::Completions(a) => completions::run(a, ctx),
        Command::Man(a) => man::run(a, ctx),
        Command::Top(a) => top::run(a, ctx),
        Command::Tree(a) => tree::run(a, ctx),
    }
}
