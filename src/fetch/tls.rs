//! TLS client configuration shared by both fetchers.
//!
//! The `ring` provider is passed explicitly instead of relying on a process-wide default: the
//! dependency graph also pulls in `aws-lc-rs` (through reqwest's features), and with two
//! providers compiled in rustls refuses to pick one on its own. Certificates are always
//! verified; the only knob is which extra CAs to trust (a private test or intranet CA).

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use super::{FetchError, FetchSettings};

/// ALPN for the wire fetcher: its recorder only understands HTTP/1.1.
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];
/// ALPN for the reqwest fetcher, which speaks both.
pub const ALPN_H2_HTTP1: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Builds a client config trusting the web roots plus `settings.extra_ca_pem`, offering `alpn`.
pub fn client_config(settings: &FetchSettings, alpn: &[&[u8]]) -> Result<ClientConfig, FetchError> {
    let roots = root_store(&settings.extra_ca_pem)?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The built-in web roots plus every certificate in each PEM blob.
pub fn root_store(extra_ca_pem: &[Vec<u8>]) -> Result<RootCertStore, FetchError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for (i, pem) in extra_ca_pem.iter().enumerate() {
        let mut found = 0usize;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                FetchError::Tls(format!("extra CA PEM #{}: unreadable PEM: {e}", i + 1))
            })?;
            roots.add(cert).map_err(|e| {
                FetchError::Tls(format!(
                    "extra CA PEM #{}: unusable certificate: {e}",
                    i + 1
                ))
            })?;
            found += 1;
        }
        if found == 0 {
            return Err(FetchError::Tls(format!(
                "extra CA PEM #{}: no CERTIFICATE section found",
                i + 1
            )));
        }
        tracing::debug!(pem = i + 1, certs = found, "trusting extra CA certificates");
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_a_clear_error() {
        let err = root_store(&[b"not a pem".to_vec()]).expect_err("must fail");
        assert!(
            matches!(err, FetchError::Tls(ref m) if m.contains("no CERTIFICATE")),
            "{err}"
        );
    }

    #[test]
    fn garbage_certificate_is_rejected() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec();
        let err = root_store(&[pem]).expect_err("must fail");
        assert!(matches!(err, FetchError::Tls(_)), "{err}");
    }

    #[test]
    fn default_roots_build() {
        let settings = FetchSettings::default();
        let cfg = client_config(&settings, ALPN_H2_HTTP1).expect("config");
        assert_eq!(
            cfg.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
