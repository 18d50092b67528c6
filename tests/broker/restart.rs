//! Behaviour across a broker restart (a dedicated node: the shared one is not restarted).

use crate::support::{Broker, rmq_url};

#[test]
fn durable_persistent_messages_survive_a_broker_restart() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let url = b.amqp_url("/");
    rmq_url(&url)
        .args(["send", "-Q", "keep", "--durable", "-p", "--lines"])
        .write_stdin("one\ntwo\n")
        .assert()
        .success();
    rmq_url(&url)
        .args(["send", "-Q", "lose", "not-persistent"])
        .assert()
        .success();
    b.restart();
    rmq_url(&url)
        .args(["receive", "-Q", "keep", "-n", "2", "--timeout", "10"])
        .assert()
        .success()
        .stdout("one\ntwo\n");
    // The transient queue is gone after the restart.
    rmq_url(&url).args(["peek", "-Q", "lose"]).assert().code(5);
}
