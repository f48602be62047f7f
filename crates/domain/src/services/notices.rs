//! Upstream notices (log messages, resource and prompt list changes) on their way to the MCP
//! gateway's sessions, and the one log level Toolhub asks servers for on their behalf.
//!
//! An upstream session is shared by every client, so servers cannot log to each client at its
//! own level: Toolhub asks them for the least severe level any listener wants and each listener
//! gets only what is at or above its own. Who may hear what is [`super::OfferingService`]'s
//! rule.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use futures::{Stream, channel::mpsc};

use crate::upstream::{LogLevel, ServerRef, UpstreamConnector, UpstreamNotice};

/// Notices a listener may have waiting; more are dropped, not queued (a slow client cannot
/// make Toolhub hold a server's chatter without bound).
const BACKLOG: usize = 64;

/// Passes servers' notices to every listener.
pub struct UpstreamNotices {
    upstream: Arc<dyn UpstreamConnector>,
    inner: Mutex<Listeners>,
}

#[derive(Default)]
struct Listeners {
    next_id: u64,
    listeners: Vec<Listener>,
    /// The level servers were last asked for.
    asked: Option<LogLevel>,
}

struct Listener {
    id: u64,
    /// The least severe log message it wants; `None`: no log messages.
    level: Option<LogLevel>,
    sender: mpsc::Sender<(ServerRef, UpstreamNotice)>,
}

impl Listeners {
    /// The level to ask servers for now, if it differs from the one asked last.
    fn new_level(&mut self) -> Option<Option<LogLevel>> {
        let wanted = self.listeners.iter().filter_map(|l| l.level).min();
        (wanted != self.asked).then(|| {
            self.asked = wanted;
            wanted
        })
    }
}

impl UpstreamNotices {
    /// The hub over the connector that is told the log level.
    pub fn new(upstream: Arc<dyn UpstreamConnector>) -> Self {
        Self { upstream, inner: Mutex::default() }
    }

    fn listeners(&self) -> std::sync::MutexGuard<'_, Listeners> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A stream of every later notice of every server (log messages only once a level is set
    /// with [`Self::set_level`]); it stops listening when dropped.
    pub fn subscribe(self: &Arc<Self>) -> NoticeStream {
        let (sender, receiver) = mpsc::channel(BACKLOG);
        let mut listeners = self.listeners();
        listeners.next_id += 1;
        let id = listeners.next_id;
        listeners.listeners.push(Listener { id, level: None, sender });
        NoticeStream { id, hub: self.clone(), receiver }
    }

    /// Sets the least severe log message a listener wants (`None`: none).
    pub fn set_level(&self, listener: ListenerId, level: Option<LogLevel>) {
        let changed = {
            let mut listeners = self.listeners();
            if let Some(listener) = listeners.listeners.iter_mut().find(|l| l.id == listener.0) {
                listener.level = level;
            }
            listeners.new_level()
        };
        if let Some(level) = changed {
            self.upstream.set_log_level(level);
        }
    }

    /// Passes a server's notice to every listener that wants it.
    pub fn publish(&self, server: &ServerRef, notice: &UpstreamNotice) {
        let changed = {
            let mut listeners = self.listeners();
            let before = listeners.listeners.len();
            listeners.listeners.retain_mut(|listener| {
                if let UpstreamNotice::Log { level, .. } = notice
                    && listener.level.is_none_or(|wanted| *level < wanted)
                {
                    return true;
                }
                // A full backlog drops the notice; a closed one's listener is gone.
                match listener.sender.try_send((server.clone(), notice.clone())) {
                    Ok(()) => true,
                    Err(e) => e.is_full(),
                }
            });
            // Only a listener that is gone (its stream dropped) changes the level wanted.
            if listeners.listeners.len() == before { None } else { listeners.new_level() }
        };
        if let Some(level) = changed {
            self.upstream.set_log_level(level);
        }
    }

    fn leave(&self, id: u64) {
        let changed = {
            let mut listeners = self.listeners();
            listeners.listeners.retain(|l| l.id != id);
            listeners.new_level()
        };
        if let Some(level) = changed {
            self.upstream.set_log_level(level);
        }
    }
}

/// Names a listener (its [`NoticeStream`]) to [`UpstreamNotices::set_level`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerId(u64);

/// One listener's notices, with the server of each.
pub struct NoticeStream {
    id: u64,
    hub: Arc<UpstreamNotices>,
    receiver: mpsc::Receiver<(ServerRef, UpstreamNotice)>,
}

impl NoticeStream {
    /// Which listener this is.
    pub fn id(&self) -> ListenerId {
        ListenerId(self.id)
    }
}

impl Stream for NoticeStream {
    type Item = (ServerRef, UpstreamNotice);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

impl Drop for NoticeStream {
    fn drop(&mut self) {
        self.hub.leave(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::InMemoryUpstream;
    use futures::{FutureExt, StreamExt};

    fn server() -> ServerRef {
        ServerRef { tenant: "t".into(), id: "s".into() }
    }

    fn log(level: LogLevel) -> UpstreamNotice {
        UpstreamNotice::Log { level, logger: None, data: serde_json::json!(level.as_str()) }
    }

    #[tokio::test]
    async fn listeners_get_log_messages_at_their_level_and_servers_are_asked_for_the_least() {
        let upstream = Arc::new(InMemoryUpstream::echo(Vec::new()));
        let hub = Arc::new(UpstreamNotices::new(upstream.clone()));
        let mut quiet = hub.subscribe();
        let mut chatty = hub.subscribe();
        hub.set_level(chatty.id(), Some(LogLevel::Info));
        hub.set_level(quiet.id(), Some(LogLevel::Error));
        assert_eq!(upstream.log_levels(), vec![Some(LogLevel::Info)]);

        hub.publish(&server(), &log(LogLevel::Debug));
        hub.publish(&server(), &log(LogLevel::Warning));
        hub.publish(&server(), &UpstreamNotice::ResourcesChanged);
        hub.publish(&server(), &log(LogLevel::Critical));
        let heard = |stream: &mut NoticeStream, n| {
            let mut heard = Vec::new();
            for _ in 0..n {
                heard.push(stream.next().now_or_never().flatten().expect("a notice").1);
            }
            assert!(stream.next().now_or_never().is_none(), "nothing more");
            heard
        };
        let chatty_heard = heard(&mut chatty, 3);
        assert_eq!(chatty_heard[0], log(LogLevel::Warning));
        assert_eq!(chatty_heard[1], UpstreamNotice::ResourcesChanged);
        assert_eq!(chatty_heard[2], log(LogLevel::Critical));
        assert_eq!(heard(&mut quiet, 2), vec![UpstreamNotice::ResourcesChanged, log(LogLevel::Critical)]);

        // The chatty listener leaves: servers are asked for the quiet one's level, then none.
        drop(chatty);
        drop(quiet);
        assert_eq!(upstream.log_levels(), vec![Some(LogLevel::Info), Some(LogLevel::Error), None]);
    }

    #[tokio::test]
    async fn a_listener_that_does_not_read_loses_notices_beyond_its_backlog() {
        let hub = Arc::new(UpstreamNotices::new(Arc::new(InMemoryUpstream::echo(Vec::new()))));
        let mut stream = hub.subscribe();
        for _ in 0..BACKLOG * 3 {
            hub.publish(&server(), &UpstreamNotice::PromptsChanged);
        }
        let mut heard = 0;
        while stream.next().now_or_never().flatten().is_some() {
            heard += 1;
        }
        assert!(heard <= BACKLOG + 1, "heard {heard}");
        assert!(heard >= BACKLOG, "heard {heard}");
    }
}
