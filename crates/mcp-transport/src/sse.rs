//! The legacy HTTP+SSE transport of MCP 2024-11-05, which rmcp 3 dropped: the client opens an
//! event stream with `GET`, learns from its first `endpoint` event where to `POST` its messages,
//! and reads the server's messages as `message` events. Implemented on rmcp's `Transport` trait
//! over reqwest, so sessions over it are supervised like every other.

use futures::StreamExt;
use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::sync::mpsc;
use toolhub_domain::upstream::UpstreamError;

/// Largest event (or line run) read from the stream; a longer one ends the session.
const EVENT_MAX: usize = 16 * 1024 * 1024;
/// Server messages read ahead of the session.
const BACKLOG: usize = 256;

/// Why sending a message failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SseError(String);

/// A connected HTTP+SSE session: where messages go, and the server's messages.
pub struct SseTransport {
    client: reqwest::Client,
    endpoint: url::Url,
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
    /// Reads the event stream; ends with the transport.
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for SseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Opens the event stream at `url` with `client` (pinned, carrying the server's headers) and
/// waits for the `endpoint` event. The endpoint must be on the stream's origin: the client is
/// pinned to that host's checked addresses, and messages must not go anywhere else.
pub async fn connect(client: reqwest::Client, url: &str) -> Result<SseTransport, UpstreamError> {
    let stream_url = url::Url::parse(url).map_err(|e| UpstreamError::Unavailable(format!("base_url: {e}")))?;
    let response = client
        .get(stream_url.clone())
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("cannot open the event stream: {}", e.without_url())))?;
    if !response.status().is_success() {
        return Err(UpstreamError::Unavailable(format!(
            "the event stream answered HTTP {}",
            response.status().as_u16()
        )));
    }
    // The body as a stream of chunks (reqwest's own stream needs a feature Toolhub leaves off).
    let body = Box::pin(futures::stream::unfold(response, |mut response| async move {
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), response)),
            Ok(None) => None,
            Err(e) => Some((Err(e), response)),
        }
    }));
    let mut events = Events::new(body);
    let endpoint = loop {
        match events.next().await {
            Some(Ok((kind, data))) if kind == "endpoint" => break data,
            Some(Ok(_)) => continue,
            Some(Err(reason)) => return Err(UpstreamError::Unavailable(reason)),
            None => return Err(UpstreamError::Unavailable("the event stream ended before its endpoint event".into())),
        }
    };
    let endpoint = stream_url
        .join(endpoint.trim())
        .map_err(|e| UpstreamError::Protocol(format!("the endpoint event is not a URL: {e}")))?;
    if endpoint.origin() != stream_url.origin() {
        return Err(UpstreamError::Protocol("the endpoint event names another origin than the event stream".into()));
    }
    let (sender, incoming) = mpsc::channel(BACKLOG);
    let reader = tokio::spawn(async move {
        while let Some(Ok((kind, data))) = events.next().await {
            if kind != "message" {
                continue;
            }
            match serde_json::from_str::<RxJsonRpcMessage<RoleClient>>(&data) {
                Ok(message) => {
                    if sender.send(message).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "an SSE message that is not JSON-RPC was skipped"),
            }
        }
        // The stream ended: dropping the sender ends the session, and supervision reconnects.
    });
    Ok(SseTransport { client, endpoint, incoming, reader })
}

impl Transport<RoleClient> for SseTransport {
    type Error = SseError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = self.client.post(self.endpoint.clone()).json(&item);
        async move {
            let response = request.send().await.map_err(|e| SseError(format!("POST failed: {}", e.without_url())))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SseError(format!("POST answered HTTP {}", response.status().as_u16())))
            }
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        Ok(())
    }
}

/// The events of a `text/event-stream` body: `(event type, data)`, `message` when untyped.
struct Events<S> {
    body: S,
    buffer: Vec<u8>,
}

impl<S, B> Events<S>
where
    S: futures::Stream<Item = Result<B, reqwest::Error>> + Unpin,
    B: AsRef<[u8]>,
{
    fn new(body: S) -> Self {
        Self { body, buffer: Vec::new() }
    }

    /// The next event; `None` at the end of the stream.
    async fn next(&mut self) -> Option<Result<(String, String), String>> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&String::from_utf8_lossy(&block)) {
                    return Some(Ok(event));
                }
                continue;
            }
            if self.buffer.len() > EVENT_MAX {
                return Some(Err(format!("an event of the stream is larger than {EVENT_MAX} bytes")));
            }
            match self.body.next().await? {
                // Line ends may be CRLF: keep LF only, so blank lines are "\n\n".
                Ok(chunk) => self.buffer.extend(chunk.as_ref().iter().filter(|b| **b != b'\r')),
                Err(e) => return Some(Err(format!("the event stream failed: {}", e.without_url()))),
            }
        }
    }
}

/// One event block: its `event:` type (default `message`) and its `data:` lines joined; `None`
/// for a block without data (comments, keep-alives).
fn parse_event(block: &str) -> Option<(String, String)> {
    let mut kind = "message".to_owned();
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => kind = value.to_owned(),
            "data" => data.push(value),
            _ => {}
        }
    }
    (!data.is_empty()).then(|| (kind, data.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_typed_and_their_data_lines_joined() {
        assert_eq!(
            parse_event("event: endpoint\ndata: /message?sessionId=1\n"),
            Some(("endpoint".into(), "/message?sessionId=1".into()))
        );
        assert_eq!(parse_event("data: {\"a\":\ndata: 1}\n"), Some(("message".into(), "{\"a\":\n1}".into())));
        assert_eq!(parse_event(": keep-alive\n"), None);
    }

    #[tokio::test]
    async fn a_stream_in_pieces_with_crlf_gives_whole_events() {
        let pieces: Vec<Result<&[u8], reqwest::Error>> =
            vec![Ok(b"event: endpoint\r\ndata: /m"), Ok(b"\r\n\r\n: ping\r\n\r\ndata: {}\r\n"), Ok(b"\r\n")];
        let mut events = Events::new(futures::stream::iter(pieces));
        assert_eq!(events.next().await.unwrap().unwrap(), ("endpoint".into(), "/m".into()));
        assert_eq!(events.next().await.unwrap().unwrap(), ("message".into(), "{}".into()));
        assert!(events.next().await.is_none());
    }
}
