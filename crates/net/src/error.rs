use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot listen on {addr} ({service})")]
    Bind {
        addr: SocketAddr,
        service: &'static str,
        source: std::io::Error,
    },
    #[error("cannot read {path}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid TLS material in {path}: {why}")]
    BadTls { path: PathBuf, why: String },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

pub type Result<T, E = NetError> = std::result::Result<T, E>;
