//! One HTTP request under a deadline, for `http` steps and health checks.
//!
//! Blocking (ureq), which fits the scheduler's thread per suite. The deadline covers resolving,
//! connecting, sending and reading the whole response. No proxy from the environment: suites
//! talk to servers they started on loopback. Redirects are not followed, so a check sees the
//! status the server sent.

use std::fmt;
use std::time::Duration;

/// The largest response body read; more is an error rather than unbounded memory.
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// A request, with everything already expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// `GET`, `POST`, …
    pub method: String,
    /// `http://127.0.0.1:8080/health`
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// Request body; `None` sends none.
    pub body: Option<String>,
    /// Time allowed for the whole exchange.
    pub timeout: Duration,
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// `name: value` lines, as received.
    pub headers: String,
    /// The body's bytes.
    pub body: Vec<u8>,
}

/// Why there is no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Nothing listens there (connection refused).
    Refused(String),
    /// The deadline passed before the response was complete.
    TimedOut(Duration),
    /// Anything else: bad URL, bad header, broken protocol, reset connection.
    Other(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(url) => write!(f, "connection refused: nothing listens at {url}"),
            Self::TimedOut(after) => write!(
                f,
                "no complete response within {}",
                humantime::format_duration(*after)
            ),
            Self::Other(message) => f.write_str(message),
        }
    }
}

/// Sends `call` and reads the whole response, whatever its status.
pub fn send(call: &HttpCall) -> Result<HttpResponse, HttpError> {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(call.timeout))
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .max_redirects(0)
        .proxy(None)
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut builder = ureq::http::Request::builder()
        .method(call.method.as_str())
        .uri(call.url.as_str());
    for (name, value) in &call.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = call.body.clone().unwrap_or_default();
    let request = builder
        .body(body)
        .map_err(|e| HttpError::Other(format!("invalid request to {}: {e}", call.url)))?;
    let mut response = agent.run(request).map_err(|e| describe(e, call))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|e| describe(e, call))?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn describe(error: ureq::Error, call: &HttpCall) -> HttpError {
    match error {
        ureq::Error::Timeout(_) => HttpError::TimedOut(call.timeout),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            HttpError::Refused(call.url.clone())
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            HttpError::TimedOut(call.timeout)
        }
        ureq::Error::ConnectionFailed => {
            HttpError::Other(format!("cannot connect to {}", call.url))
        }
        ureq::Error::BadUri(uri) => HttpError::Other(format!("invalid URL {uri:?}")),
        ureq::Error::HostNotFound => HttpError::Other(format!("host not found in {}", call.url)),
        other => HttpError::Other(format!("{} {}: {other}", call.method, call.url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn call(url: String) -> HttpCall {
        HttpCall {
            method: "GET".into(),
            url,
            headers: vec![("X-Probe".into(), "1".into())],
            body: None,
            timeout: Duration::from_secs(20),
        }
    }

    #[test]
    fn status_headers_and_body_come_back_for_any_status() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut buffer).unwrap();
                request.extend_from_slice(&buffer[..n]);
            }
            socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\nX-Kind: test\r\n\r\nmissing",
                )
                .unwrap();
            String::from_utf8(request).unwrap()
        });
        let response = send(&call(format!("http://127.0.0.1:{port}/nope"))).unwrap();
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /nope HTTP/1.1\r\n"), "{request}");
        assert!(
            request.to_ascii_lowercase().contains("x-probe: 1"),
            "{request}"
        );
        assert_eq!(response.status, 404);
        assert_eq!(response.body, b"missing");
        assert!(
            response.headers.contains("x-kind: test"),
            "{}",
            response.headers
        );
    }

    #[test]
    fn a_closed_port_is_a_refused_connection() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let error = send(&call(format!("http://127.0.0.1:{port}/health"))).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("connection refused: nothing listens at http://127.0.0.1:{port}/health")
        );
    }
}
