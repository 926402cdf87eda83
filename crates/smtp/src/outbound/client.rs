//! The SMTP client side (RFC 5321) for outbound delivery: one connection,
//! one message, several recipients; every reply is kept so the sender can
//! be told exactly what the remote host said.

use std::net::SocketAddr;
use std::time::Duration;

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
}

/// What became of each recipient on one connection.
#[derive(Debug)]
pub enum Transfer {
    /// The conversation went through: a reply per recipient (the RCPT
    /// refusal, or the reply to the message data).
    Done(Vec<(String, RemoteReply)>),
    /// The host refused the whole transaction (greeting, EHLO, MAIL).
    Refused(RemoteReply),
}

struct Conversation {
    reader: BufReader<Box<dyn Connection>>,
}

impl Conversation {
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
                return Ok(RemoteReply {
                    code,
                    text: text.join(" "),
                });
            }
        }
    }

    async fn command(&mut self, line: &str) -> std::io::Result<RemoteReply> {
        self.reader
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        self.reply().await
    }
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

/// Sends one message to `addr`. `Err` is a connection problem (try the
/// next host, or later).
pub async fn transfer(
    host: &str,
    addr: SocketAddr,
    helo: &str,
    sender: &str,
    recipients: &[String],
    content: &[u8],
) -> std::io::Result<Transfer> {
    let stream = timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout"))??;
    let mut c = Conversation {
        reader: BufReader::new(Box::new(stream) as Box<dyn Connection>),
    };
    let greeting = c.reply().await?;
    if !greeting.is_success() {
        return Ok(Transfer::Refused(greeting));
    }
    let mut ehlo = c.command(&format!("EHLO {helo}")).await?;
    let offers_tls = ehlo.is_success()
        && ehlo
            .text
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case("STARTTLS"));
    if let (true, Some(connector)) = (offers_tls, super::tls::connector())
        && c.command("STARTTLS").await?.code == 220
    {
        // RFC 3207 4.2: start over on the encrypted channel.
        let name = ServerName::try_from(host.to_string())
            .unwrap_or_else(|_| ServerName::IpAddress(addr.ip().into()));
        let plain = c.reader.into_inner();
        let tls = timeout(CONNECT_TIMEOUT, connector.connect(name, plain))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS timeout"))??;
        c = Conversation {
            reader: BufReader::new(Box::new(tls) as Box<dyn Connection>),
        };
        ehlo = c.command(&format!("EHLO {helo}")).await?;
    }
    if !ehlo.is_success() {
        let helo_reply = c.command(&format!("HELO {helo}")).await?;
        if !helo_reply.is_success() {
            return Ok(Transfer::Refused(helo_reply));
        }
    }
    let mail = c.command(&format!("MAIL FROM:<{sender}>")).await?;
    if !mail.is_success() {
        let _ = c.command("QUIT").await;
        return Ok(Transfer::Refused(mail));
    }
    let mut results = Vec::new();
    let mut accepted = Vec::new();
    for rcpt in recipients {
        let reply = c.command(&format!("RCPT TO:<{rcpt}>")).await?;
        if reply.is_success() {
            accepted.push(rcpt.clone());
        } else {
            results.push((rcpt.clone(), reply));
        }
    }
    if accepted.is_empty() {
        let _ = c.command("QUIT").await;
        return Ok(Transfer::Done(results));
    }
    let data = c.command("DATA").await?;
    if data.code != 354 {
        results.extend(accepted.into_iter().map(|r| (r, data.clone())));
        let _ = c.command("QUIT").await;
        return Ok(Transfer::Done(results));
    }
    c.reader.get_mut().write_all(&data_bytes(content)).await?;
    let done = c.reply().await?;
    results.extend(accepted.into_iter().map(|r| (r, done.clone())));
    let _ = c.command("QUIT").await;
    Ok(Transfer::Done(results))
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
}
