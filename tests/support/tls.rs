//! TLS nodes: a throw-away PKI made with openssl (a CA, a server certificate for
//! localhost/127.0.0.1, a client certificate) and a dedicated node with AMQPS and https
//! listeners using it. What is tested over TLS lives in `tests/broker/tls.rs`, not here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::broker::Broker;
use super::process::run_with_timeout;

/// The client certificate's CN: the user name SASL EXTERNAL logs in as.
pub const CLIENT_CN: &str = "rmq-tls-client";

/// A throw-away CA with a server and a client certificate it signed (files in a temp dir
/// removed on drop).
pub struct Pki {
    _dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = run_with_timeout(
        Command::new("openssl").args(args).current_dir(dir),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// A CA and two certificates it signs. None when openssl is missing.
    pub fn make() -> Option<Pki> {
        if Command::new("openssl").arg("version").output().is_err() {
            super::skip("openssl is not installed (apt-get install openssl)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=rmq test CA",
            ],
        );
        let ext = d.join("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        for (name, cn) in [("server", "localhost"), ("client", CLIENT_CN)] {
            openssl(
                d,
                &[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={cn}"),
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &format!("{name}.pem"),
                    "-days",
                    "2",
                    "-extfile",
                    &format!("{name}.ext"),
                ],
            );
        }
        Some(Pki {
            ca: d.join("ca.pem"),
            server_cert: d.join("server.pem"),
            server_key: d.join("server.key"),
            client_cert: d.join("client.pem"),
            client_key: d.join("client.key"),
            _dir: dir,
        })
    }
}

impl Broker {
    /// A dedicated node whose AMQP port is a TLS listener with `pki`'s server certificate
    /// (peer verification on, a client certificate optional, SASL EXTERNAL by its CN) and a
    /// management https listener on [`Broker::api_tls_port`]. `None` when `RMQ_TEST_URL` is set.
    pub fn dedicated_tls(pki: &Pki) -> Option<Broker> {
        let conf = format!(
            "listeners.ssl.default = 127.0.0.1:{{amqp}}\n\
             ssl_options.cacertfile = {}\n\
             ssl_options.certfile = {}\n\
             ssl_options.keyfile = {}\n\
             ssl_options.verify = verify_peer\n\
             ssl_options.fail_if_no_peer_cert = false\n\
             ssl_cert_login_from = common_name\n\
             management.ssl.ip = 127.0.0.1\n\
             management.ssl.port = {{api_tls}}\n\
             management.ssl.cacertfile = {}\n\
             management.ssl.certfile = {}\n\
             management.ssl.keyfile = {}\n\
             auth_mechanisms.1 = PLAIN\n\
             auth_mechanisms.2 = EXTERNAL\n",
            path(&pki.ca),
            path(&pki.server_cert),
            path(&pki.server_key),
            path(&pki.ca),
            path(&pki.server_cert),
            path(&pki.server_key)
        );
        Broker::dedicated_with(&conf, &["rabbitmq_auth_mechanism_ssl"])
    }
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
