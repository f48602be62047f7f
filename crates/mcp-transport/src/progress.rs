//! Progress reports of calls in flight: routed by the token Toolhub gave the upstream, and
//! delivered as the session reads them.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    sync::{Arc, Mutex},
};

use rmcp::{
    RoleClient,
    model::{JsonRpcMessage, ServerNotification},
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use toolhub_domain::upstream::{Progress, ProgressSink};

/// Where a session's calls in flight want their progress reports, by the progress token rmcp
/// gave each request (a counter of the session: tokens repeat across sessions, so every
/// session has routes of its own).
#[derive(Default)]
pub struct ProgressRoutes(Mutex<Routes>);

#[derive(Default)]
struct Routes {
    sinks: HashMap<String, ProgressSink>,
    /// Reports read before their call could route them: rmcp sends a request before it tells
    /// the caller its token. The last few are kept, for the route that comes next.
    early: VecDeque<(String, Progress)>,
}

/// Reports kept for routes still to come; older ones are dropped (a server's reports on
/// requests nobody routes never pile up).
const EARLY_REPORTS: usize = 32;

impl ProgressRoutes {
    /// Routes `token`'s reports to `sink` until the returned guard is dropped, those already
    /// read first.
    pub fn route(self: &Arc<Self>, token: String, sink: ProgressSink) -> RouteGuard {
        let mut routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (early, others): (VecDeque<_>, VecDeque<_>) =
            std::mem::take(&mut routes.early).into_iter().partition(|(of, _)| *of == token);
        routes.early = others;
        for (_, report) in early {
            sink(report);
        }
        routes.sinks.insert(token.clone(), sink);
        RouteGuard { routes: self.clone(), token }
    }

    /// Passes `report` to its call; under the lock, so it cannot overtake those `route` passes.
    fn deliver(&self, report: &rmcp::model::ProgressNotificationParam) {
        let token = report.progress_token.0.to_string();
        let report = Progress { progress: report.progress, total: report.total, message: report.message.clone() };
        let mut routes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match routes.sinks.get(&token) {
            Some(sink) => sink(report),
            None => {
                if routes.early.len() == EARLY_REPORTS {
                    routes.early.pop_front();
                }
                routes.early.push_back((token, report));
            }
        }
    }
}

/// Ends a route when the call ends, however it ends.
pub struct RouteGuard {
    routes: Arc<ProgressRoutes>,
    token: String,
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        self.routes.0.lock().unwrap_or_else(|p| p.into_inner()).sinks.remove(&self.token);
    }
}

/// An upstream's transport that hands each progress report to its call as it is read. rmcp runs
/// notification handlers on tasks of their own while it answers requests at once, so a report
/// handled there could come after the answer it preceded, when its call no longer listens.
/// Read here, in the order the upstream sent them, every report is with its call first.
pub struct ProgressTap<T> {
    inner: T,
    routes: Arc<ProgressRoutes>,
}

impl<T> ProgressTap<T> {
    pub fn new(inner: T, routes: Arc<ProgressRoutes>) -> Self {
        Self { inner, routes }
    }
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for ProgressTap<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        let message = self.inner.receive().await?;
        if let JsonRpcMessage::Notification(notification) = &message
            && let ServerNotification::ProgressNotification(report) = &notification.notification
        {
            self.routes.deliver(&report.params);
        }
        Some(message)
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(token: i64, progress: f64) -> rmcp::model::ProgressNotificationParam {
        rmcp::model::ProgressNotificationParam::new(
            rmcp::model::ProgressToken(rmcp::model::NumberOrString::Number(token)),
            progress,
        )
    }

    fn recorder() -> (ProgressSink, Arc<Mutex<Vec<f64>>>) {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let into = heard.clone();
        (Arc::new(move |report: Progress| into.lock().unwrap().push(report.progress)), heard)
    }

    #[test]
    fn reports_read_before_their_route_reach_it_first_in_order() {
        let routes = Arc::new(ProgressRoutes::default());
        routes.deliver(&report(1, 1.0));
        routes.deliver(&report(2, 9.0));
        routes.deliver(&report(1, 2.0));
        let (sink, heard) = recorder();
        let guard = routes.route("1".into(), sink);
        routes.deliver(&report(1, 3.0));
        assert_eq!(*heard.lock().unwrap(), [1.0, 2.0, 3.0]);
        // Another token's report waits for its own route; an ended route hears nothing more.
        drop(guard);
        routes.deliver(&report(1, 4.0));
        assert_eq!(*heard.lock().unwrap(), [1.0, 2.0, 3.0]);
        let (sink, other) = recorder();
        let _guard = routes.route("2".into(), sink);
        assert_eq!(*other.lock().unwrap(), [9.0]);
    }

    #[test]
    fn unrouted_reports_are_bounded() {
        let routes = Arc::new(ProgressRoutes::default());
        for step in 0..1000 {
            routes.deliver(&report(step, step as f64));
        }
        assert_eq!(routes.0.lock().unwrap().early.len(), EARLY_REPORTS);
        let (sink, heard) = recorder();
        let _guard = routes.route("999".into(), sink);
        assert_eq!(*heard.lock().unwrap(), [999.0]);
    }
}
