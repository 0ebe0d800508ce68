//! An HTTP endpoint served by a test, standing in for the team's own services (a hook,
//! later a chat or a forge): it records every request and answers each with the next
//! scripted reply (then the default one, 200 `{}` unless set). Plain HTTP/1.1, one request per
//! connection.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    replies: VecDeque<(u16, String)>,
    /// The reply once the scripted ones are used up (200 `{}` unless set).
    default: Option<(u16, String)>,
    received: Vec<Received>,
}

/// The endpoint; it serves until the test ends.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let Some(request) = read_request(&mut reader) else {
                    continue;
                };
                let (status, body) = {
                    let mut state = shared.lock().unwrap();
                    state.received.push(request);
                    let default = state.default.clone();
                    state
                        .replies
                        .pop_front()
                        .or(default)
                        .unwrap_or((200, "{}".to_owned()))
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, state }
    }

    /// Answers the next request with `status` and `body`.
    pub fn reply(&self, status: u16, body: &str) {
        self.state
            .lock()
            .unwrap()
            .replies
            .push_back((status, body.to_owned()));
    }

    /// Answers every request past the scripted ones with `status` and `body`.
    pub fn reply_always(&self, status: u16, body: &str) {
        self.state.lock().unwrap().default = Some((status, body.to_owned()));
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Received> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
