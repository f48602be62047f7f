//! Discovery: a server's listed tools merged into the stored ones.

use super::LifecycleService;
use crate::{DomainError, error::DomainResult, server::ToolServer, tool, upstream::DiscoveredTool};

impl LifecycleService {
    /// Merges a discovery into the stored tools. Discoveries of one server (a start, a restart,
    /// a `list_changed`) run one at a time, each against what the last one wrote; if another
    /// replica inserted a tool of the same name meanwhile, the merge is redone once against it.
    pub(super) async fn sync_tools(&self, server: &ToolServer, found: &[DiscoveredTool], by: &str) -> DomainResult<()> {
        let _one_at_a_time = self.discoveries.take(&server.id).await;
        let mut retried = false;
        loop {
            let existing = self.tools.list_for_servers(&server.tenant, std::slice::from_ref(&server.id)).await?;
            let changes = tool::reconcile(server, &existing, found, by, self.clock.now());
            match self.tools.apply(&changes).await {
                Err(DomainError::Conflict(_)) if !retried => retried = true,
                result => return result,
            }
        }
    }
}
