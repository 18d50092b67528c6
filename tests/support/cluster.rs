//! A RabbitMQ cluster of dedicated nodes sharing one Erlang cookie (the failover tests use 3).
//! It only joins nodes that `node.rs` booted; it holds no single-node logic and no queries.

use super::broker::{Broker, launch_with};
use super::external::external_url;
use super::node::Extra;
use super::ports::random;

impl Broker {
    /// `n` dedicated nodes joined into one RabbitMQ cluster (the first is the seed), for
    /// failover tests with quorum queues. Slow (n boots and n - 1 joins): callers keep it
    /// out of the default run. `None` when `RMQ_TEST_URL` is set.
    pub fn dedicated_cluster(n: usize) -> Option<Vec<Broker>> {
        if external_url().is_some() {
            super::skip("a dedicated cluster is needed, but RMQ_TEST_URL is set");
            return None;
        }
        let cookie: String = (0..20)
            .map(|_| char::from(b'A' + (random() % 26) as u8))
            .collect();
        let extra = Extra {
            cookie: Some(cookie),
            ..Extra::default()
        };
        let nodes: Vec<Broker> = (0..n)
            .map(|_| {
                launch_with(false, &extra)
                    .unwrap_or_else(|e| panic!("cluster node unavailable: {e}"))
            })
            .collect();
        let seed = nodes[0].node_name().to_string();
        for node in &nodes[1..] {
            for args in [
                vec!["stop_app"],
                vec!["join_cluster", seed.as_str()],
                vec!["start_app"],
                vec!["await_startup"],
            ] {
                let out = node.rabbitmqctl(&args);
                assert!(
                    out.status.success(),
                    "rabbitmqctl {args:?} on {}: {}{}",
                    node.node_name(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Some(nodes)
    }
}
