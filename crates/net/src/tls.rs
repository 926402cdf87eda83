//! TLS certificates: from the configured files, or a self-signed one made
//! for the hostname on first start. [`TlsCertificates::reload`] swaps the
//! certificate for new handshakes; established sessions keep theirs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::crypto::ring::{self as provider, sign::any_supported_type};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::{NetError, Result};

/// Where the certificate and key come from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Generate a self-signed pair for this hostname if the files are absent.
    pub self_signed_for: Option<String>,
}

impl TlsFiles {
    /// Configured files: they must exist.
    pub fn configured(cert: PathBuf, key: PathBuf) -> Self {
        Self {
            cert,
            key,
            self_signed_for: None,
        }
    }

    /// The default: a self-signed pair kept in `dir`, made on first use.
    pub fn self_signed(dir: &Path, hostname: &str) -> Self {
        Self {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            self_signed_for: Some(hostname.to_string()),
        }
    }
}

#[derive(Debug)]
struct Resolver(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

/// The server's certificate, shared by every TLS listener and STARTTLS.
#[derive(Clone)]
pub struct TlsCertificates {
    files: TlsFiles,
    resolver: Arc<Resolver>,
    config: Arc<ServerConfig>,
}

impl TlsCertificates {
    pub fn load(files: TlsFiles) -> Result<Self> {
        if let Some(hostname) = &files.self_signed_for
            && !files.cert.exists()
        {
            generate_self_signed(&files, hostname)?;
        }
        let key = read_certified_key(&files)?;
        let resolver = Arc::new(Resolver(RwLock::new(Arc::new(key))));
        let config = ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        Ok(Self {
            files,
            resolver,
            config: Arc::new(config),
        })
    }

    /// Re-reads the files; on error the current certificate stays in use.
    pub fn reload(&self) -> Result<()> {
        let key = read_certified_key(&self.files)?;
        *self.resolver.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        Ok(())
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }
}

fn read_certified_key(files: &TlsFiles) -> Result<CertifiedKey> {
    let read = |path: &Path| {
        fs::read(path).map_err(|source| NetError::ReadFile {
            path: path.to_path_buf(),
            source,
        })
    };
    let bad = |path: &Path, why: String| NetError::BadTls {
        path: path.to_path_buf(),
        why,
    };
    let cert_pem = read(&files.cert)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(&files.cert, "no certificate found".into()));
    }
    let key_pem = read(&files.key)?;
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad(&files.key, e.to_string()))?;
    let signing = any_supported_type(&key).map_err(|e| bad(&files.key, e.to_string()))?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|e| {
        bad(
            &files.key,
            format!("the key does not match the certificate: {e}"),
        )
    })?;
    Ok(certified)
}

fn generate_self_signed(files: &TlsFiles, hostname: &str) -> Result<()> {
    let generated = rcgen::generate_simple_self_signed(vec![hostname.to_string()])
        .map_err(|e| NetError::Generate(e.to_string()))?;
    if let Some(dir) = files.cert.parent() {
        fs::create_dir_all(dir).map_err(|source| NetError::WriteFile {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_private(&files.key, generated.signing_key.serialize_pem().as_bytes())?;
    fs::write(&files.cert, generated.cert.pem()).map_err(|source| NetError::WriteFile {
        path: files.cert.clone(),
        source,
    })?;
    tracing::info!(cert = %files.cert.display(), %hostname, "generated a self-signed certificate");
    Ok(())
}

/// Writes a secret readable by its owner only.
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let error = |source| NetError::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(error)?;
    file.write_all(data).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles::self_signed(dir.path(), "mail.example.test");
        TlsCertificates::load(files.clone()).unwrap();
        let first = fs::read(&files.cert).unwrap();
        TlsCertificates::load(files.clone()).unwrap();
        assert_eq!(fs::read(&files.cert).unwrap(), first);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&files.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is private");
    }

    #[test]
    fn configured_files_must_exist_and_match() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles::configured(dir.path().join("no.pem"), dir.path().join("no.key"));
        let err = TlsCertificates::load(missing).err().unwrap().to_string();
        assert!(err.contains("no.pem"), "{err}");

        let a = TlsFiles::self_signed(&dir.path().join("a"), "a.test");
        let b = TlsFiles::self_signed(&dir.path().join("b"), "b.test");
        TlsCertificates::load(a.clone()).unwrap();
        TlsCertificates::load(b.clone()).unwrap();
        let mixed = TlsFiles::configured(a.cert.clone(), b.key.clone());
        let err = TlsCertificates::load(mixed).err().unwrap().to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn a_failed_reload_keeps_the_old_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles::self_signed(dir.path(), "mail.example.test");
        let certs = TlsCertificates::load(files.clone()).unwrap();
        fs::write(&files.cert, "garbage").unwrap();
        assert!(certs.reload().is_err());
    }
}
