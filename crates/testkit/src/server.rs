use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::log::LogFollower;

/// How long the server gets to bind its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(60);

const SERVICES: [&str; 9] = [
    "smtp",
    "submission",
    "submissions",
    "imap",
    "imaps",
    "pop3",
    "pop3s",
    "http",
    "https",
];

pub struct ServerBuilder {
    binary: PathBuf,
    hostname: String,
    extra_config: String,
    tls: Option<(PathBuf, PathBuf)>,
    /// Fixed addresses for some services (the rest get ephemeral ports).
    listen: HashMap<String, String>,
    /// The DNS server the server asks (SPF, DKIM, DMARC, MX).
    nameserver: Option<SocketAddr>,
}

impl ServerBuilder {
    pub fn hostname(mut self, hostname: &str) -> Self {
        self.hostname = hostname.to_string();
        self
    }

    /// TOML appended to the generated config (new top-level tables).
    pub fn config(mut self, toml: &str) -> Self {
        self.extra_config.push_str(toml);
        self.extra_config.push('\n');
        self
    }

    /// Listens for `service` on `addr` instead of an ephemeral port, e.g.
    /// two servers on 127.0.0.1 and 127.0.0.2 with the same SMTP port.
    pub fn listen(mut self, service: &str, addr: SocketAddr) -> Self {
        self.listen.insert(service.to_string(), addr.to_string());
        self
    }

    /// The DNS server to ask instead of the default: one with no zones
    /// (`crate::empty_dns`), so lookups fail at once and no test depends
    /// on the machine's resolver.
    pub fn nameserver(mut self, addr: SocketAddr) -> Self {
        self.nameserver = Some(addr);
        self
    }

    pub fn tls_files(mut self, cert: &Path, key: &Path) -> Self {
        self.tls = Some((cert.to_path_buf(), key.to_path_buf()));
        self
    }

    pub fn start(self) -> Server {
        self.try_start().unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts the server, or says why it stopped before it was ready (a
    /// test that chose its own port may find it taken and try another).
    pub fn try_start(self) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("mailroom-e2e-")
            .tempdir()
            .expect("create a temporary directory");
        let data_dir = dir.path().join("data");
        let mut config = format!(
            "hostname = \"{}\"\ndata_dir = \"{}\"\n[listen]\n",
            self.hostname,
            data_dir.display()
        );
        for service in SERVICES {
            let addr = self
                .listen
                .get(service)
                .map_or("127.0.0.1:0", String::as_str);
            config.push_str(&format!("{service} = [\"{addr}\"]\n"));
        }
        if let Some((cert, key)) = &self.tls {
            config.push_str(&format!(
                "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
                cert.display(),
                key.display()
            ));
        }
        let nameserver = self.nameserver.unwrap_or_else(crate::dns::empty_dns);
        config.push_str(&format!("[dns]\nnameserver = \"{nameserver}\"\n"));
        config.push_str(&self.extra_config);
        let config_path = dir.path().join("mailroom.toml");
        fs::write(&config_path, config).expect("write the config");
        let mut server = Server {
            binary: self.binary,
            hostname: self.hostname,
            config_path,
            data_dir,
            child: None,
            addrs: HashMap::new(),
            starts: 0,
            log: Arc::default(),
            dir,
        };
        server.try_launch()?;
        Ok(server)
    }
}

/// A running `mailroom serve` with its own data directory.
pub struct Server {
    binary: PathBuf,
    pub hostname: String,
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
    child: Option<Child>,
    addrs: HashMap<String, Vec<SocketAddr>>,
    starts: usize,
    /// This start's log, followed as it is written.
    log: Arc<LogFollower>,
    dir: TempDir,
}

pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Panics with the whole output unless the command succeeded.
    pub fn ok(self) -> Self {
        assert!(
            self.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless the command failed; returns its error output.
    pub fn fails(self) -> String {
        assert!(
            !self.status.success(),
            "command should have failed:\nstdout: {}",
            self.stdout
        );
        self.stderr
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Server {
    /// `binary` is the `mailroom` executable (`env!("CARGO_BIN_EXE_mailroom")`).
    pub fn builder(binary: impl Into<PathBuf>) -> ServerBuilder {
        ServerBuilder {
            binary: binary.into(),
            hostname: "mail.example.test".into(),
            extra_config: String::new(),
            tls: None,
            listen: HashMap::new(),
            nameserver: None,
        }
    }

    pub fn start(binary: impl Into<PathBuf>) -> Server {
        Self::builder(binary).start()
    }

    fn log_path(&self, stream: &str) -> PathBuf {
        self.dir
            .path()
            .join(format!("{stream}.{}.log", self.starts))
    }

    fn launch(&mut self) {
        self.try_launch().unwrap_or_else(|why| panic!("{why}"));
    }

    fn try_launch(&mut self) -> Result<(), String> {
        self.starts += 1;
        let listeners = self.data_dir.join("listeners.json");
        // A file left by a killed server must not be mistaken for readiness.
        let _ = fs::remove_file(&listeners);
        let stdout = fs::File::create(self.log_path("stdout")).expect("create stdout log");
        let stderr = fs::File::create(self.log_path("stderr")).expect("create stderr log");
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config_path)
            .arg("serve")
            .env("MAILROOM_LOG", "info")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mailroom serve");
        let mut child = child;
        if let Some(pipe) = child.stderr.take() {
            self.log = LogFollower::follow(pipe, stderr);
        }
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(text) = fs::read_to_string(&listeners)
                && let Ok(map) = serde_json::from_str::<HashMap<String, Vec<String>>>(&text)
            {
                self.addrs = map
                    .into_iter()
                    .map(|(k, v)| (k, v.iter().filter_map(|a| a.parse().ok()).collect()))
                    .collect();
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "mailroom serve exited with {status} before it was ready:\n{}",
                    self.stderr()
                ));
            }
            assert!(
                Instant::now() < deadline,
                "mailroom serve not ready after {START_TIMEOUT:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The first address of a listener (`"smtp"`, `"imap"`, `"http"`, ...).
    pub fn addr(&self, service: &str) -> SocketAddr {
        *self
            .addrs
            .get(service)
            .and_then(|a| a.first())
            .unwrap_or_else(|| panic!("no {service} listener"))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    /// What the server printed on standard output since its last start.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.log_path("stdout")).unwrap_or_default()
    }

    /// Waits (on the log as the server writes it, no polling) for the
    /// first line since the last start that contains `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> String {
        self.log.wait_for(needle, limit)
    }

    /// Its log (standard error) since its last start.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.log_path("stderr")).unwrap_or_default()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGTERM, then waits (at most `limit`) for the exit status.
    pub fn stop(&mut self, limit: Duration) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(limit)
    }

    /// SIGKILL: the crash every acknowledged write must survive.
    pub fn kill9(&mut self) {
        self.signal("KILL");
        self.wait_exit(Duration::from_secs(10));
    }

    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("server is running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait for mailroom") {
                self.child = None;
                // Its last words reach the log file before anyone reads it.
                self.log.wait_closed(Duration::from_secs(5));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mailroom did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory (after a stop or
    /// a crash); ports may change.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop(Duration::from_secs(30));
        }
        self.launch();
    }

    /// Runs a `mailroom` subcommand against this server's config.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        self.cli_with_stdin(args, "")
    }

    pub fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> CliOutput {
        let mut child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the mailroom CLI");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(stdin.as_bytes())
            .expect("write the CLI's stdin");
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("wait for the CLI");
        CliOutput {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    pub fn add_domain(&self, domain: &str) {
        self.cli(&["domain", "add", domain]).ok();
    }

    /// Adds a mail user with [`crate::PASSWORD`], creating its domain if needed.
    pub fn add_user(&self, email: &str) {
        let domain = email.rsplit_once('@').expect("an address").1;
        let known = self.cli(&["--json", "domain", "list"]).ok().json();
        let exists = known
            .as_array()
            .is_some_and(|a| a.iter().any(|d| d["name"] == domain));
        if !exists {
            self.add_domain(domain);
        }
        self.cli_with_stdin(
            &["account", "add", email, "--password-stdin"],
            &format!("{}\n", crate::PASSWORD),
        )
        .ok();
    }

    /// Runs a Python 3 script with the listener addresses in the
    /// environment (`MR_SMTP_HOST`, `MR_SMTP_PORT`, ...).
    pub fn python(&self, script: &str) -> CliOutput {
        let mut command = Command::new("python3");
        command.arg("-c").arg(script);
        for (service, addrs) in &self.addrs {
            if let Some(addr) = addrs.first() {
                let key = service.to_ascii_uppercase();
                command.env(format!("MR_{key}_HOST"), addr.ip().to_string());
                command.env(format!("MR_{key}_PORT"), addr.port().to_string());
            }
        }
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().expect("run python3");
        CliOutput {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// A plain HTTP/1.1 GET on the http listener: (status, body).
    pub fn http_get(&self, path: &str) -> (u16, String) {
        let mut client = crate::RawClient::connect(self.addr("http"));
        client.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.hostname
        ));
        let response = client.read_to_end();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
