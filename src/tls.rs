//! TLS for AMQP (amqps://) and the management API (https://), with rustls.
//!
//! rustls instead of OpenSSL: rmq links no system TLS library, so a plain `amqp://` run maps
//! ~1.7 MB fewer pages and starts faster (scripts/bench W4, W6), and the binary builds on a
//! machine without libssl-dev. The system's CA bundle is still trusted, as before.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::{Error, Result};

/// Where the trust and the client identity come from.
#[derive(Clone, Debug, Default)]
pub struct TlsFiles {
    /// Extra CA bundle to trust (PEM), on top of the system's.
    pub cacert: Option<String>,
    /// Client certificate chain (PEM).
    pub cert: Option<String>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<String>,
    /// Do not verify the server's certificate.
    pub insecure: bool,
}

/// A client configuration for these files.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Other(format!("cannot set up TLS: {e}")))?;
    let builder = if files.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(
                provider.signature_verification_algorithms,
            )))
    } else {
        builder.with_root_certificates(roots(files.cacert.as_deref())?)
    };
    let config = match (&files.cert, &files.key) {
        (Some(c), Some(k)) => {
            let chain = certificates(c, "--cert", "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(&read_file(k, "client key")?)
                .map_err(|e| Error::Usage(format!("--key {k}: no PEM private key in it ({e})")))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                Error::Usage(format!(
                    "--cert {c} / --key {k}: cannot use them as a client identity ({e})"
                ))
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(Error::Usage(
                "--cert and --key go together: give both".into(),
            ));
        }
    };
    Ok(Arc::new(config))
}

/// The system's CA bundle plus `cacert`.
fn roots(cacert: Option<&str>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped: --cacert still works without them.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = cacert {
        for cert in certificates(path, "--cacert", "CA certificate")? {
            roots.add(cert).map_err(|e| {
                Error::Usage(format!(
                    "--cacert {path}: not a usable CA certificate ({e})"
                ))
            })?;
        }
    }
    Ok(roots)
}

/// Every CERTIFICATE block of a PEM file; none is a usage error.
fn certificates(path: &str, flag: &str, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read_file(path, what)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Usage(format!("{flag} {path}: not a PEM certificate ({e})")))?;
    if certs.is_empty() {
        return Err(Error::Usage(format!(
            "{flag} {path}: not a PEM certificate (no CERTIFICATE block in it)"
        )));
    }
    Ok(certs)
}

fn read_file(path: &str, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Usage(format!("cannot read {what} '{path}': {e}")))
}

/// The name the server's certificate must carry (a host name or an IP address).
pub fn server_name(name: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.to_string()).map_err(|e| {
        Error::Usage(format!(
            "'{name}' cannot be checked as a TLS server name ({e})"
        ))
    })
}

/// `--insecure` / `verify=verify_none`: any certificate is taken, but the handshake's
/// signatures are still checked so the session keys are the server's.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// Run the TLS handshake on a blocking socket, bounded by `deadline`. The error is the
/// reason in words (rustls's, e.g. "invalid peer certificate: UnknownIssuer").
pub fn handshake(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    sock: &mut TcpStream,
    deadline: Instant,
) -> std::result::Result<ClientConnection, String> {
    let mut conn = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no TLS handshake within the connect timeout".into());
        }
        sock.set_read_timeout(Some(left)).ok();
        sock.set_write_timeout(Some(left)).ok();
        match conn.complete_io(sock) {
            Ok((0, 0)) if conn.is_handshaking() => {
                return Err("the server closed the connection during the TLS handshake".into());
            }
            Ok(_) => {}
            Err(e) => return Err(handshake_reason(e)),
        }
    }
    sock.set_read_timeout(None).ok();
    sock.set_write_timeout(None).ok();
    Ok(conn)
}

fn handshake_reason(e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            "no TLS handshake within the connect timeout (does the port speak TLS?)".into()
        }
        _ => match e.get_ref() {
            Some(inner) => inner.to_string(),
            None => e.to_string(),
        },
    }
}
