use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A line-oriented client over a bare TCP socket, for conversations no
/// library client would have (pipelining, garbage, smuggling attempts).
pub struct RawClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// One line as received, without its line ending.
pub type Line = String;

const READ_TIMEOUT: Duration = Duration::from_secs(30);

impl RawClient {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("set a read timeout");
        Self {
            reader: BufReader::new(stream.try_clone().expect("clone the socket")),
            writer: stream,
        }
    }

    pub fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the server");
    }

    /// The next line, or `None` once the server has closed the connection.
    pub fn read_line(&mut self) -> Option<Line> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
            Err(e) => panic!("read from the server: {e}"),
        }
    }

    /// Everything until the server closes the connection.
    pub fn read_to_end(&mut self) -> String {
        let mut all = Vec::new();
        self.reader
            .read_to_end(&mut all)
            .expect("read to the end of the stream");
        String::from_utf8_lossy(&all).into_owned()
    }
}
