//! A small HTTP proxy between shepherd and the emulator that records every request and can
//! answer the next ones with throttling (429) or server errors (500), as AWS does under
//! load. Plain HTTP/1.1, one request per connection (the emulator closes each one).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The operation named in the request, if any: the awsQuery `Action` (CloudWatch) or
    /// the JSON protocols' `X-Amz-Target` (SQS, ECR).
    pub action: Option<String>,
    pub injected: bool,
}

impl Seen {
    /// Whether the request changes something: the REST APIs (Lambda, S3) write with POST,
    /// PUT and DELETE; the query and JSON APIs name the action.
    pub fn is_write(&self) -> bool {
        match &self.action {
            Some(action) => !["Describe", "Get", "List"]
                .iter()
                .any(|p| action.starts_with(p)),
            None => !matches!(self.method.as_str(), "GET" | "HEAD"),
        }
    }
}

impl Seen {
    /// A call to the lease table (DynamoDB), not to what shepherd manages.
    pub fn is_lease_table(&self) -> bool {
        self.action.as_deref().is_some_and(|a| {
            [
                "GetItem",
                "PutItem",
                "DeleteItem",
                "UpdateItem",
                "CreateTable",
                "DescribeTable",
            ]
            .contains(&a)
        })
    }

    /// `UpdateAlias`: `PUT /2015-03-31/functions/NAME/aliases/ALIAS`.
    pub fn is_update_alias(&self) -> bool {
        self.method == "PUT" && self.path.contains("/aliases/")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttle,
    ServerError,
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    /// Faults to answer the next Lambda requests with, in order.
    pending: Vec<Fault>,
}

/// The proxy; its listener runs on the test's tokio runtime.
#[derive(Clone)]
pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, &state).await;
                });
            }
        });
        Self { endpoint, state }
    }

    /// Answers the next Lambda requests with these faults, one each.
    pub fn inject(&self, faults: &[Fault]) {
        self.state.lock().unwrap().pending.extend_from_slice(faults);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().seen.clear();
    }

    /// Write requests that reached the emulator.
    pub fn writes(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.is_write() && !s.injected)
            .collect()
    }

    /// Writes to Lambda and CloudWatch that reached the emulator (not the lease table's,
    /// nor SQS's).
    pub fn managed_writes(&self) -> Vec<Seen> {
        self.writes()
            .into_iter()
            .filter(|s| {
                !s.is_lease_table()
                    && (s.path.starts_with("/20")
                        || s.action
                            .as_deref()
                            .is_some_and(|a| ["PutMetricAlarm", "DeleteAlarms"].contains(&a)))
            })
            .collect()
    }

    pub fn reads(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| !s.is_write() && !s.injected)
            .collect()
    }
}

async fn read_request(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return Ok(buffer);
            }
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buffer);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn fault_response(fault: Fault) -> Vec<u8> {
    let (status, kind, body) = match fault {
        Fault::Throttle => (
            "429 Too Many Requests",
            "TooManyRequestsException",
            r#"{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}"#,
        ),
        Fault::ServerError => (
            "500 Internal Server Error",
            "ServiceException",
            r#"{"Type":"Service","message":"Internal failure"}"#,
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {kind}\r\nx-amzn-RequestId: injected\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(mut client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    if request.is_empty() {
        return Ok(());
    }
    let head_end = find(&request, b"\r\n\r\n").unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
    let mut first = head.lines().next().unwrap_or_default().split_whitespace();
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let body = String::from_utf8_lossy(&request[(head_end + 4).min(request.len())..]).into_owned();
    let target = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let operation = value.trim().rsplit('.').next()?;
        name.eq_ignore_ascii_case("x-amz-target")
            .then(|| operation.to_owned())
    });
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .map(str::to_owned)
        .or(target);
    let is_lambda = path.starts_with("/20");
    let fault = {
        let mut state = state.lock().unwrap();
        let fault = if is_lambda && !state.pending.is_empty() {
            Some(state.pending.remove(0))
        } else {
            None
        };
        state.seen.push(Seen {
            method,
            path,
            action,
            injected: fault.is_some(),
        });
        fault
    };
    if let Some(fault) = fault {
        client.write_all(&fault_response(fault)).await?;
        return client.shutdown().await;
    }
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    client.write_all(&response).await?;
    client.shutdown().await
}
