//! The SMTP client side (RFC 5321) for outbound delivery: a session to one
//! host that carries one message after another (the pool keeps it open
//! between them), pipelined when the host allows it (RFC 2920). Every
//! reply is kept so the sender can be told exactly what the host said.

use std::net::SocketAddr;
use std::time::Duration;

use mailroom_core::sasl::base64_encode;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::rustls::pki_types::ServerName;

/// A plain or TLS connection.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

/// RFC 5321 4.5.3.2: generous waits for each step.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const REPLY_TIMEOUT: Duration = Duration::from_secs(300);

/// Login for a smart host.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({})", self.user)
    }
}

/// A reply from the remote host: its code and its text, lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteReply {
    pub code: u16,
    pub text: String,
}

impl RemoteReply {
    pub fn is_success(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// `550 5.1.1 <x@far.test>: no such user`
    pub fn line(&self) -> String {
        format!("{} {}", self.code, self.text)
    }

    /// The enhanced status code in the text (RFC 3463), or one from the
    /// reply code's class.
    pub fn status(&self) -> String {
        let first = self.text.split_whitespace().next().unwrap_or("");
        let parts: Vec<&str> = first.split('.').collect();
        if parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            first.to_string()
        } else if self.is_permanent() {
            "5.0.0".into()
        } else {
            "4.0.0".into()
        }
    }

    fn local(code: u16, text: impl Into<String>) -> Self {
        Self {
            code,
            text: text.into(),
        }
    }
}

/// What became of a message on a session.
#[derive(Debug)]
pub enum Transfer {
    /// The transaction ran: a reply per recipient (the RCPT refusal, or
    /// the reply to the message data).
    Done(Vec<(String, RemoteReply)>),
    /// The host refused the whole transaction (MAIL).
    Refused(RemoteReply),
}

/// How to reach a host.
pub struct Target<'a> {
    pub host: &'a str,
    pub addr: SocketAddr,
    /// The name we greet with.
    pub helo: &'a str,
    /// TLS from the first byte (a smart host on port 465).
    pub implicit_tls: bool,
    pub credentials: Option<&'a Credentials>,
}

/// The outcome of opening a session.
pub enum Opened {
    Ready(Session),
    /// Greeting, EHLO/HELO or AUTH refused.
    Refused(RemoteReply),
}

pub struct Session {
    reader: BufReader<Box<dyn Connection>>,
    pipelining: bool,
    size: bool,
    /// Messages carried so far.
    pub messages: u32,
    /// Set when the host said 421 or the connection failed: not reusable.
    pub broken: bool,
}

impl Session {
    pub async fn open(target: Target<'_>) -> std::io::Result<Opened> {
        let tcp = timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout"))??;
        let _ = tcp.set_nodelay(true);
        let mut tls = false;
        let stream: Box<dyn Connection> = if target.implicit_tls {
            tls = true;
            handshake(&target, tcp).await?
        } else {
            Box::new(tcp)
        };
        let mut session = Session {
            reader: BufReader::new(stream),
            pipelining: false,
            size: false,
            messages: 0,
            broken: false,
        };
        let greeting = session.reply().await?;
        if !greeting.is_success() {
            return Ok(Opened::Refused(greeting));
        }
        let mut ehlo = session.command(&format!("EHLO {}", target.helo)).await?;
        if !tls
            && ehlo.is_success()
            && offers(&ehlo, "STARTTLS")
            && session.command("STARTTLS").await?.code == 220
        {
            // RFC 3207 4.2: start over on the encrypted channel.
            let plain = session.reader.into_inner();
            session.reader = BufReader::new(handshake(&target, plain).await?);
            tls = true;
            ehlo = session.command(&format!("EHLO {}", target.helo)).await?;
        }
        if !ehlo.is_success() {
            let helo = session.command(&format!("HELO {}", target.helo)).await?;
            if !helo.is_success() {
                return Ok(Opened::Refused(helo));
            }
        }
        session.pipelining = offers(&ehlo, "PIPELINING");
        session.size = offers(&ehlo, "SIZE");
        if let Some(credentials) = target.credentials {
            // Deferred, not bounced: a login problem is ours to fix.
            if !tls {
                session.quit().await;
                return Ok(Opened::Refused(RemoteReply::local(
                    451,
                    "4.7.10 the relay offers no TLS; its password is only sent encrypted",
                )));
            }
            let token = base64_encode(
                format!("\0{}\0{}", credentials.user, credentials.password).as_bytes(),
            );
            let reply = session.command(&format!("AUTH PLAIN {token}")).await?;
            if reply.code != 235 {
                session.quit().await;
                return Ok(Opened::Refused(RemoteReply::local(
                    451,
                    format!("4.7.8 login to the relay failed: {}", reply.line()),
                )));
            }
        }
        Ok(Opened::Ready(session))
    }

    /// Sends one message. `Err` is a connection problem (try the next
    /// host, or later); the session is left ready for another message.
    pub async fn send(
        &mut self,
        sender: &str,
        recipients: &[String],
        content: &[u8],
    ) -> std::io::Result<Transfer> {
        let result = self.transaction(sender, recipients, content).await;
        if result.is_err() {
            self.broken = true;
        }
        result
    }

    async fn transaction(
        &mut self,
        sender: &str,
        recipients: &[String],
        content: &[u8],
    ) -> std::io::Result<Transfer> {
        let mail = if self.size {
            // RFC 1870: the host may refuse an oversized message up front.
            format!("MAIL FROM:<{sender}> SIZE={}\r\n", content.len())
        } else {
            format!("MAIL FROM:<{sender}>\r\n")
        };
        let rcpts: Vec<String> = recipients
            .iter()
            .map(|r| format!("RCPT TO:<{r}>\r\n"))
            .collect();
        let (mail, rcpt_replies, data) = if self.pipelining {
            // RFC 2920 3.1: MAIL, every RCPT and DATA in one go.
            let mut batch = mail.into_bytes();
            for r in &rcpts {
                batch.extend_from_slice(r.as_bytes());
            }
            batch.extend_from_slice(b"DATA\r\n");
            self.write(&batch).await?;
            let mail = self.reply().await?;
            let mut replies = Vec::with_capacity(rcpts.len());
            for _ in &rcpts {
                replies.push(self.reply().await?);
            }
            (mail, replies, Some(self.reply().await?))
        } else {
            let mail = self.command(mail.trim_end()).await?;
            if !mail.is_success() {
                self.rset().await?;
                return Ok(Transfer::Refused(mail));
            }
            let mut replies = Vec::with_capacity(rcpts.len());
            for r in &rcpts {
                replies.push(self.command(r.trim_end()).await?);
            }
            (mail, replies, None)
        };
        let accepted: Vec<&String> = recipients
            .iter()
            .zip(&rcpt_replies)
            .filter(|(_, reply)| reply.is_success())
            .map(|(r, _)| r)
            .collect();
        let data = match data {
            Some(data) => data,
            None if accepted.is_empty() => RemoteReply::local(554, "5.5.1 no valid recipients"),
            None => self.command("DATA").await?,
        };
        if data.code == 354 && (accepted.is_empty() || !mail.is_success()) {
            // A host that says go ahead with nobody to send to: end it.
            self.write(b".\r\n").await?;
            self.reply().await?;
        }
        if !mail.is_success() {
            self.rset().await?;
            return Ok(Transfer::Refused(mail));
        }
        let mut results: Vec<(String, RemoteReply)> = recipients
            .iter()
            .zip(rcpt_replies)
            .filter(|(_, reply)| !reply.is_success())
            .map(|(r, reply)| (r.clone(), reply))
            .collect();
        if accepted.is_empty() {
            self.rset().await?;
            return Ok(Transfer::Done(results));
        }
        let done = if data.code == 354 {
            self.write(&data_bytes(content)).await?;
            self.reply().await?
        } else {
            self.rset().await?;
            data
        };
        results.extend(accepted.into_iter().map(|r| (r.clone(), done.clone())));
        self.messages += 1;
        Ok(Transfer::Done(results))
    }

    /// Ends the session politely.
    pub async fn quit(mut self) {
        let _ = timeout(Duration::from_secs(5), self.command("QUIT")).await;
    }

    async fn rset(&mut self) -> std::io::Result<()> {
        self.command("RSET").await.map(drop)
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stream = self.reader.get_mut();
        stream.write_all(bytes).await?;
        stream.flush().await
    }

    async fn command(&mut self, line: &str) -> std::io::Result<RemoteReply> {
        self.write(format!("{line}\r\n").as_bytes()).await?;
        self.reply().await
    }

    async fn reply(&mut self) -> std::io::Result<RemoteReply> {
        let mut text = Vec::new();
        loop {
            let mut line = String::new();
            let n = timeout(REPLY_TIMEOUT, self.reader.read_line(&mut line))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "reply timeout")
                })??;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let line = line.trim_end();
            let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "not an SMTP reply")
            })?;
            text.push(line.get(4..).unwrap_or("").to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                if code == 421 {
                    // RFC 5321 3.8: the host is closing the channel.
                    self.broken = true;
                }
                return Ok(RemoteReply {
                    code,
                    text: text.join(" "),
                });
            }
        }
    }
}

async fn handshake<S>(target: &Target<'_>, stream: S) -> std::io::Result<Box<dyn Connection>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connector = super::tls::connector()
        .ok_or_else(|| std::io::Error::other("no TLS client configuration"))?;
    let name = ServerName::try_from(target.host.to_string())
        .unwrap_or_else(|_| ServerName::IpAddress(target.addr.ip().into()));
    let tls = timeout(CONNECT_TIMEOUT, connector.connect(name, stream))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS timeout"))??;
    Ok(Box::new(tls))
}

/// Whether an EHLO reply lists `keyword` (RFC 5321 4.1.1.1).
fn offers(ehlo: &RemoteReply, keyword: &str) -> bool {
    ehlo.text
        .split_whitespace()
        .any(|w| w.eq_ignore_ascii_case(keyword))
}

/// Dot-stuffs a message and ends it (RFC 5321 4.5.2).
fn data_bytes(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 64);
    let mut line_start = true;
    for &b in content {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_and_terminated() {
        assert_eq!(data_bytes(b"a\r\n.b\r\n..c"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(data_bytes(b".x\r\n"), b"..x\r\n.\r\n");
    }

    #[test]
    fn statuses_come_from_the_reply() {
        let r = RemoteReply {
            code: 550,
            text: "5.1.1 <x@far.test>: no such user".into(),
        };
        assert_eq!(r.status(), "5.1.1");
        let r = RemoteReply {
            code: 451,
            text: "try later".into(),
        };
        assert_eq!(r.status(), "4.0.0");
    }

    #[test]
    fn capabilities_are_read_from_the_ehlo_reply() {
        let ehlo = RemoteReply {
            code: 250,
            text: "mx.far.test PIPELINING SIZE 10240000 STARTTLS".into(),
        };
        assert!(offers(&ehlo, "pipelining") && offers(&ehlo, "SIZE"));
        assert!(!offers(&ehlo, "AUTH"));
    }
}
