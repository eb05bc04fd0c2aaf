//! A minimal HTTP/1.1 client for the probe, bounded in every direction: one request per
//! connection (`Connection: close`), a deadline on every read and write, a cap on the header
//! block and on the body, so a hostile or broken answer (huge headers, an endless or dripping
//! body, garbage) ends in a clear error, never a hang or a panic.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest header block accepted (status line and headers).
pub(crate) const MAX_HEADER_BYTES: usize = 64 << 10;
/// The most header lines accepted.
const MAX_HEADERS: usize = 256;
/// 1xx interim answers skipped before the final one.
const MAX_INTERIM: usize = 8;

/// A TCP stream whose every read and write must end before `deadline`. It keeps the first
/// bytes the peer sent: a plain-HTTP server answering a TLS ClientHello starts with `HTTP/`.
#[derive(Debug)]
pub(crate) struct Timed {
    tcp: TcpStream,
    deadline: Instant,
    pub(crate) first_bytes: Vec<u8>,
}

impl Timed {
    pub(crate) fn new(tcp: TcpStream, deadline: Instant) -> Self {
        Timed {
            tcp,
            deadline,
            first_bytes: Vec::new(),
        }
    }

    pub(crate) fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    fn remaining(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "deadline reached"))
        } else {
            Ok(left)
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.tcp.set_read_timeout(Some(left))?;
        let n = self.tcp.read(buf)?;
        if self.first_bytes.len() < 5 {
            let take = (5 - self.first_bytes.len()).min(n);
            self.first_bytes.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// A connection, plain or TLS, ready for one request.
#[derive(Debug)]
pub(crate) enum Conn {
    Plain(Timed),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Timed>>),
}

impl Conn {
    pub(crate) fn set_deadline(&mut self, deadline: Instant) {
        match self {
            Conn::Plain(t) => t.set_deadline(deadline),
            Conn::Tls(s) => s.sock.set_deadline(deadline),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(t) => t.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Says what an I/O error means to a person: a timeout names the step's limit.
pub(crate) fn io_error(e: &io::Error, limit: Duration) -> String {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("timed out after {}", seconds(limit))
        }
        _ => e.to_string(),
    }
}

pub(crate) fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Name resolution with a time limit: the system resolver has none of its own, so it runs on
/// a thread that is abandoned (it ends by itself) when the limit passes.
pub(crate) fn resolve(host: &str, port: u16, limit: Duration) -> Result<Vec<SocketAddr>, String> {
    // An IP literal needs no resolver.
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (send, receive) = std::sync::mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("probe-dns".into())
        .spawn(move || {
            let answer = (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            // The receiver may have given up already.
            let _ = send.send(answer);
        })
        .map_err(|e| format!("cannot start the resolver: {e}"))?;
    match receive.recv_timeout(limit) {
        Ok(Ok(addrs)) if addrs.is_empty() => Err(format!("{host} has no address")),
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {e}")),
        Err(_) => Err(format!(
            "resolving {host} timed out after {}",
            seconds(limit)
        )),
    }
}

/// Connects to the first address that accepts, all within `limit` (as Go's dialer shares its
/// timeout between the addresses of a name).
pub(crate) fn connect(
    addrs: &[SocketAddr],
    limit: Duration,
) -> Result<(TcpStream, SocketAddr), String> {
    let deadline = Instant::now() + limit;
    let mut errors = Vec::new();
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            errors.push(format!("{addr}: timed out after {}", seconds(limit)));
            break;
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => {
                // Small requests: send each at once.
                let _ = tcp.set_nodelay(true);
                return Ok((tcp, *addr));
            }
            Err(e) => errors.push(format!("{addr}: {}", io_error(&e, limit))),
        }
    }
    Err(errors.join("; "))
}

/// A TLS handshake within the connection's deadline.
pub(crate) fn handshake(
    tcp: Timed,
    config: Arc<rustls::ClientConfig>,
    server_name: rustls::pki_types::ServerName<'static>,
) -> Result<Conn, (Timed, io::Error)> {
    let mut tls = match rustls::ClientConnection::new(config, server_name) {
        Ok(tls) => tls,
        Err(e) => return Err((tcp, io::Error::other(e))),
    };
    let mut sock = tcp;
    while tls.is_handshaking() {
        if let Err(e) = tls.complete_io(&mut sock) {
            return Err((sock, e));
        }
    }
    Ok(Conn::Tls(Box::new(rustls::StreamOwned::new(tls, sock))))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Header names as sent; compared case-insensitively.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One request: the method, the target (path and query), headers in order, a body.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) host: &'a str,
    pub(crate) target: &'a str,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
}

impl Request<'_> {
    /// The bytes on the wire. A header carrying CR or LF would split the request: refused.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, String> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            self.method, self.target, self.host
        );
        for (name, value) in &self.headers {
            if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic() || b == b':') {
                return Err(format!(
                    "the header name `{name}` is not a valid HTTP token"
                ));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(format!("the value of header {name} holds a line break"));
            }
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        out.push_str("Connection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(self.body);
        Ok(bytes)
    }
}

/// Reads bytes from a stream, keeping what was read past the point the parser needed.
struct Buffered<'r, R> {
    inner: &'r mut R,
    buf: Vec<u8>,
    pos: usize,
}

impl<R: Read> Buffered<'_, R> {
    /// Reads more into the buffer; `Ok(0)` at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        let n = loop {
            match self.inner.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// A line ending in CRLF (or a bare LF), without it; `max` bounds its length.
    fn line(&mut self, max: usize, what: &str) -> Result<Vec<u8>, String> {
        loop {
            if let Some(i) = self.available().iter().position(|&b| b == b'\n') {
                let mut line = self.available()[..i].to_vec();
                self.pos += i + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.available().len() > max {
                return Err(format!("{what} longer than {max} bytes"));
            }
            if self.fill().map_err(|e| e.to_string())? == 0 {
                return Err(format!("the connection closed in the middle of {what}"));
            }
        }
    }

    /// Up to `n` more bytes of the body, appended to `out`.
    fn exactly(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), String> {
        while self.available().len() < n {
            if self.fill().map_err(|e| e.to_string())? == 0 {
                return Err("the connection closed before the end of the body".into());
            }
        }
        out.extend_from_slice(&self.available()[..n]);
        self.pos += n;
        Ok(())
    }
}

/// How much of the body the caller wants: none (it is not read at all), or at most so many
/// bytes (more is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    Skip,
    UpTo(usize),
}

/// Reads one response. `head` says the request was HEAD (no body follows whatever the
/// headers say). Errors say what was wrong with the answer, never echo it.
pub(crate) fn read_response<R: Read>(
    stream: &mut R,
    head: bool,
    body: Body,
) -> Result<Response, String> {
    let mut reader = Buffered {
        inner: stream,
        buf: Vec::new(),
        pos: 0,
    };
    let mut interim = 0;
    let (status, headers) = loop {
        let (status, headers) = read_head(&mut reader)?;
        // 100 Continue and other interim answers precede the real one (not 101: no upgrade
        // was asked for).
        if (100..200).contains(&status) && status != 101 {
            interim += 1;
            if interim > MAX_INTERIM {
                return Err(format!("more than {MAX_INTERIM} interim (1xx) answers"));
            }
            continue;
        }
        break (status, headers);
    };
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let limit = match body {
        Body::Skip => return Ok(response),
        Body::UpTo(limit) => limit,
    };
    if head || status == 204 || status == 304 {
        return Ok(response);
    }
    let chunked = response
        .all("Transfer-Encoding")
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("chunked"));
    if chunked {
        response.body = read_chunked(&mut reader, limit)?;
        return Ok(response);
    }
    let lengths = response.all("Content-Length");
    if let Some(first) = lengths.first() {
        if lengths.iter().any(|l| l.trim() != first.trim()) {
            return Err("conflicting Content-Length headers".into());
        }
        let length: usize = first
            .trim()
            .parse()
            .map_err(|_| "a Content-Length that is not a number".to_string())?;
        if length > limit {
            return Err(format!(
                "a body of {length} bytes, more than the {limit} accepted"
            ));
        }
        let mut out = Vec::with_capacity(length);
        reader.exactly(length, &mut out)?;
        response.body = out;
        return Ok(response);
    }
    // Neither: the body runs to the end of the connection.
    loop {
        if reader.available().len() > limit {
            return Err(format!("a body longer than the {limit} bytes accepted"));
        }
        if reader.fill().map_err(|e| e.to_string())? == 0 {
            break;
        }
    }
    response.body = reader.available().to_vec();
    Ok(response)
}

/// The status line and the headers.
fn read_head<R: Read>(
    reader: &mut Buffered<'_, R>,
) -> Result<(u16, Vec<(String, String)>), String> {
    let start = reader.pos;
    let status_line = reader.line(MAX_HEADER_BYTES, "the status line")?;
    let status = parse_status_line(&status_line)?;
    let mut headers = Vec::new();
    loop {
        let used = reader.pos - start;
        let left = MAX_HEADER_BYTES.saturating_sub(used);
        let line = reader.line(left, "the header block").map_err(|e| {
            if e.contains("longer") {
                format!("a header block longer than {MAX_HEADER_BYTES} bytes")
            } else {
                e
            }
        })?;
        if reader.pos - start > MAX_HEADER_BYTES {
            return Err(format!(
                "a header block longer than {MAX_HEADER_BYTES} bytes"
            ));
        }
        if line.is_empty() {
            return Ok((status, headers));
        }
        if headers.len() >= MAX_HEADERS {
            return Err(format!("more than {MAX_HEADERS} headers"));
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err("a folded header line (obsolete line folding)".into());
        }
        let text =
            std::str::from_utf8(&line).map_err(|_| "a header that is not UTF-8".to_string())?;
        let Some((name, value)) = text.split_once(':') else {
            return Err("a header line without a colon".into());
        };
        if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err("a header with an invalid name".into());
        }
        headers.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
}

fn parse_status_line(line: &[u8]) -> Result<u16, String> {
    let not_http = || "the answer is not HTTP (no `HTTP/1.x NNN` status line)".to_string();
    let rest = line
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| line.strip_prefix(b"HTTP/1.0 "))
        .ok_or_else(not_http)?;
    let digits = rest.get(..3).ok_or_else(not_http)?;
    if !digits.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|&b| b != b' ') {
        return Err(not_http());
    }
    let status = digits
        .iter()
        .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'));
    if status < 100 {
        return Err(not_http());
    }
    Ok(status)
}

fn read_chunked<R: Read>(reader: &mut Buffered<'_, R>, limit: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line = reader.line(1024, "a chunk size line")?;
        let text =
            std::str::from_utf8(&line).map_err(|_| "a chunk size that is not text".to_string())?;
        let size_text = text.split(';').next().unwrap_or("").trim();
        if size_text.is_empty() || size_text.len() > 16 {
            return Err("a chunk size that is not a hexadecimal number".into());
        }
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| "a chunk size that is not a hexadecimal number".to_string())?;
        if size == 0 {
            // Trailers, up to the empty line.
            let mut trailer_bytes = 0;
            loop {
                let line = reader.line(MAX_HEADER_BYTES, "the trailers")?;
                trailer_bytes += line.len();
                if trailer_bytes > MAX_HEADER_BYTES {
                    return Err(format!("trailers longer than {MAX_HEADER_BYTES} bytes"));
                }
                if line.is_empty() {
                    return Ok(out);
                }
            }
        }
        if out.len().saturating_add(size) > limit {
            return Err(format!("a body longer than the {limit} bytes accepted"));
        }
        reader.exactly(size, &mut out)?;
        let end = reader.line(2, "the end of a chunk")?;
        if !end.is_empty() {
            return Err("a chunk longer than its size".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8], head: bool, limit: usize) -> Result<Response, String> {
        read_response(&mut &bytes[..], head, Body::UpTo(limit))
    }

    #[test]
    fn content_length_and_chunked_bodies() {
        let r = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b \r\n\r\nhelloEXTRA",
            false,
            10,
        )
        .expect("parse");
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("x-a")),
            (200, &b"hello"[..], Some("b"))
        );
        let r = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: x\r\n\r\n",
            false,
            10,
        )
        .expect("parse");
        assert_eq!(r.body, b"abcde");
        let r = parse(b"HTTP/1.0 404 Not Found\r\n\r\nto the end", false, 100).expect("parse");
        assert_eq!((r.status, r.body.as_slice()), (404, &b"to the end"[..]));
        let r = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 No\nA: 1\n\n",
            true,
            0,
        )
        .expect("parse");
        assert_eq!((r.status, r.header("A")), (401, Some("1")));
        // HEAD: Content-Length says what a GET would carry; nothing follows.
        let r = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n",
            true,
            0,
        )
        .expect("parse");
        assert_eq!(r.body, b"");
    }

    #[test]
    fn hostile_answers_are_clear_errors() {
        let huge_header = {
            let mut v = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
            v.extend(std::iter::repeat_n(b'a', MAX_HEADER_BYTES + 10));
            v.extend_from_slice(b"\r\n\r\n");
            v
        };
        let many_headers = {
            let mut v = b"HTTP/1.1 200 OK\r\n".to_vec();
            for i in 0..300 {
                v.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
            }
            v.extend_from_slice(b"\r\n");
            v
        };
        let endless_status = vec![b'H'; MAX_HEADER_BYTES * 2];
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("garbage", b"\x16\x03\x01\x00garbage\r\n\r\n".to_vec(), "not HTTP"),
            ("empty", Vec::new(), "closed in the middle"),
            ("ftp", b"SSH-2.0-OpenSSH\r\n".to_vec(), "not HTTP"),
            ("bad status", b"HTTP/1.1 2x0 OK\r\n\r\n".to_vec(), "not HTTP"),
            ("huge header", huge_header, "longer than 65536"),
            ("endless status line", endless_status, "longer than 65536"),
            ("many headers", many_headers, "more than 256 headers"),
            ("no colon", b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n".to_vec(), "without a colon"),
            ("folded", b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n".to_vec(), "folded"),
            ("length too big", b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n".to_vec(), "more than the 10"),
            ("length garbage", b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n".to_vec(), "not a number"),
            ("length conflict", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(), "conflicting"),
            ("short body", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab".to_vec(), "before the end of the body"),
            ("chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), "hexadecimal"),
            ("chunk overflow", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n".to_vec(), "hexadecimal"),
            ("chunks too long", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n".to_vec(), "longer than the 10"),
            ("chunk overrun", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n".to_vec(), "longer than its size"),
            ("to the end, too long", b"HTTP/1.1 200 OK\r\n\r\n0123456789abcdef".to_vec(), "longer than the 10"),
        ];
        let mut wrong = Vec::new();
        for (name, bytes, expected) in cases {
            match parse(&bytes, false, 10) {
                Err(e) if e.contains(expected) => {}
                other => wrong.push(format!(
                    "{name}: {other:?}, expected an error with `{expected}`"
                )),
            }
        }
        let interim = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(20);
        match parse(&interim, false, 10) {
            Err(e) if e.contains("interim") => {}
            other => wrong.push(format!("interim: {other:?}")),
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn skipped_bodies_are_not_read() {
        // An endless body: with Body::Skip the parser stops after the headers.
        struct Endless(usize);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let head = b"HTTP/1.1 200 OK\r\n\r\n";
                if self.0 < head.len() {
                    let n = (head.len() - self.0).min(buf.len());
                    buf[..n].copy_from_slice(&head[self.0..self.0 + n]);
                    self.0 += n;
                    return Ok(n);
                }
                buf.fill(b'x');
                Ok(buf.len())
            }
        }
        let r = read_response(&mut Endless(0), false, Body::Skip).expect("parse");
        assert_eq!(r.status, 200);
        let e = read_response(&mut Endless(0), false, Body::UpTo(1 << 16)).expect_err("endless");
        assert!(e.contains("longer than"), "{e}");
    }

    #[test]
    fn requests_refuse_header_injection() {
        let request = |name: &str, value: &str| {
            Request {
                method: "GET",
                host: "m:5000",
                target: "/v2/",
                headers: vec![(name.to_string(), value.to_string())],
                body: b"",
            }
            .encode()
        };
        assert!(request("X-A", "b\r\nEvil: 1").is_err());
        assert!(request("X A", "b").is_err());
        let bytes = request("X-A", "b").expect("encode");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            "GET /v2/ HTTP/1.1\r\nHost: m:5000\r\nX-A: b\r\nConnection: close\r\n\r\n"
        );
    }
}
