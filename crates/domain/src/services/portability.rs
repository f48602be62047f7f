//! Export and import of a tenant's configuration (see [`crate::portable`]): everything goes
//! through the services, so imports are checked and authorized as the API's writes are.
//! An import is all or nothing: every entry is checked first, and a write that fails undoes
//! the writes before it.

use std::{collections::HashMap, sync::Arc};

use crate::{
    DomainError, Principal,
    access::{AccessLevel, Grant, RoleRule, Subject, Target},
    error::DomainResult,
    portable::{
        CategoryEntry, Document, FORMAT, GrantEntry, ITEMS_MAX, RuleEntry, Sealer, ServerEntry, ToolkitEntry,
        ToolkitToolEntry,
    },
    ports::{GrantFilter, ToolRepository},
    query::ListQuery,
    secret::Secret,
    server::{ServerFilter, ServerStatus, ToolServer},
    services::{
        AccessService, CatalogueCache, GrantPatch, LifecycleService, NewGrant, RuleInput, ServerService, ToolService,
        ToolkitService,
    },
    tool::ToolStatus,
    toolkit::{NewToolkit, NewToolkitTool, ToolkitPatch},
};

/// What an import does with an entry whose name is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Conflicts {
    /// Leave the existing one as it is.
    #[default]
    Skip,
    /// Make the existing one the entry.
    Update,
    /// Import the entry under a free name (`<name>-2`, ...); grants, rules and categories,
    /// which have no name, are skipped.
    Rename,
}

/// One change an import makes (or would make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportChange {
    /// `server`, `toolkit`, `grant`, `role_rule` or `category`.
    pub kind: &'static str,
    /// The entry's name (a grant's subject and target, a rule's role and patterns).
    pub name: String,
    /// `create`, `update`, `skip` or `rename`.
    pub action: &'static str,
    /// The name a renamed entry takes.
    pub renamed_to: Option<String>,
}

/// What an import did, or would do in a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// Every entry, in the order it is applied.
    pub changes: Vec<ImportChange>,
}

/// How an import is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Report what would change, and change nothing.
    pub dry_run: bool,
    /// What to do with taken names.
    pub conflicts: Conflicts,
}

/// Exports and imports tenants' configurations.
pub struct PortabilityService {
    catalogue: Arc<CatalogueCache>,
    servers: Arc<ServerService>,
    lifecycle: Arc<LifecycleService>,
    tools: Arc<ToolService>,
    toolkits: Arc<ToolkitService>,
    access: Arc<AccessService>,
}

/// A write an import made, and how to take it back.
enum Undo {
    DeleteServer(String),
    RestoreServer(Box<ServerEntry>),
    DeleteToolkit(String),
    RestoreToolkit(ToolkitEntry),
    RevokeGrant(String),
    RestoreGrant(Grant),
    DeleteRule(String),
    RestoreRule(RoleRule),
    Category(String, bool),
}

/// Names of what exists or will, for references between entries.
#[derive(Default)]
struct Names {
    /// Imported server names to the names they take (renames).
    servers: HashMap<String, String>,
    /// Imported toolkit names to the names they take.
    toolkits: HashMap<String, String>,
}

impl Names {
    fn server<'a>(&'a self, name: &'a str) -> &'a str {
        self.servers.get(name).map_or(name, String::as_str)
    }

    fn toolkit<'a>(&'a self, name: &'a str) -> &'a str {
        self.toolkits.get(name).map_or(name, String::as_str)
    }
}

fn change(kind: &'static str, name: impl Into<String>, action: &'static str) -> ImportChange {
    ImportChange { kind, name: name.into(), action, renamed_to: None }
}

/// A grant's target, as an export names it.
fn target_label(entry: &GrantEntry) -> String {
    match (&entry.server, &entry.tool, &entry.toolkit) {
        (Some(server), Some(tool), _) => format!("{server}/{tool}"),
        (Some(server), None, _) => server.clone(),
        (_, _, Some(toolkit)) => format!("toolkit {toolkit}"),
        _ => "nothing".to_owned(),
    }
}

fn rule_label(entry: &RuleEntry) -> String {
    let pattern = |p: &Option<String>| p.clone().unwrap_or_else(|| "*".into());
    format!("{} {}/{}", entry.role, pattern(&entry.server_pattern), pattern(&entry.tool_pattern))
}

fn level(text: &str, field: &str) -> DomainResult<AccessLevel> {
    text.parse().map_err(|_| DomainError::invalid(field, "must be none, read, execute or admin"))
}

impl PortabilityService {
    /// Export and import through these services.
    pub fn new(
        catalogue: Arc<CatalogueCache>,
        servers: Arc<ServerService>,
        lifecycle: Arc<LifecycleService>,
        tools: Arc<ToolService>,
        toolkits: Arc<ToolkitService>,
        access: Arc<AccessService>,
    ) -> Self {
        Self { catalogue, servers, lifecycle, tools, toolkits, access }
    }

    /// The actor's tenant as a document (administrators only). Secret values are left out, or
    /// sealed by `sealer`. Lists are sorted, so that the same configuration exports the same
    /// document (but sealed values, which take a fresh salt and nonces).
    pub async fn export(&self, actor: &Principal, sealer: Option<&Sealer>) -> DomainResult<Document> {
        actor.require_admin("export the tenant's configuration")?;
        let seal = |secret: &Secret| sealer.map(|s| s.seal(secret));

        let views = self.servers.list(actor, ServerFilter::all()).await?;
        let server_names: HashMap<&str, &str> =
            views.iter().map(|v| (v.server.id.as_str(), v.server.name.as_str())).collect();
        let tool_names: HashMap<&str, (&str, &str)> = views
            .iter()
            .flat_map(|v| v.tools.iter().map(move |t| (t.id.as_str(), (v.server.name.as_str(), t.name.as_str()))))
            .collect();
        let mut servers: Vec<ServerEntry> = views
            .iter()
            .filter(|v| !v.server.is_builtin)
            .map(|v| {
                let mut entry = ServerEntry::of(&v.server, &seal);
                entry.disabled_tools =
                    v.tools.iter().filter(|t| t.status == ToolStatus::Disabled).map(|t| t.name.clone()).collect();
                entry.disabled_tools.sort();
                entry
            })
            .collect();
        servers.sort_by(|a, b| a.name.cmp(&b.name));

        let (kits, _) = self.toolkits.list(actor, &ListQuery::default()).await?;
        let kit_names: HashMap<&str, &str> = kits.iter().map(|k| (k.id.as_str(), k.name.as_str())).collect();
        let mut toolkits = Vec::new();
        for kit in &kits {
            let contents = self.toolkits.contents(actor, &kit.id).await?;
            let tools = contents
                .tools
                .iter()
                .map(|view| {
                    let e = &view.entry;
                    let mut entry = ToolkitToolEntry {
                        name: e.name.clone(),
                        description: e.description.clone(),
                        sort_order: e.sort_order,
                        ..Default::default()
                    };
                    match &view.target {
                        Some((tool, server)) => {
                            (entry.server, entry.tool) = (Some(server.name.clone()), Some(tool.name.clone()));
                        }
                        None => {
                            entry.kind = Some(e.kind.clone());
                            entry.parameters = e.parameters.clone();
                            if let Some(config) = &e.config {
                                if config.masked() == *config.expose() {
                                    entry.config = Some(config.expose().clone());
                                } else {
                                    entry.sealed_config = seal(&Secret::new(config.expose().to_string()));
                                }
                            }
                        }
                    }
                    entry
                })
                .collect();
            toolkits.push(ToolkitEntry {
                name: kit.name.clone(),
                display_name: Some(kit.display_name.clone()),
                description: kit.description.clone(),
                owner_id: Some(kit.owner_id.clone()),
                server: kit.server_id.as_deref().and_then(|id| server_names.get(id)).map(|n| n.to_string()),
                tools,
            });
        }

        let (all_grants, _) = self.access.list_grants(actor, &GrantFilter::default(), &ListQuery::default()).await?;
        let mut grants: Vec<GrantEntry> = all_grants
            .iter()
            .filter_map(|g| {
                let mut entry = GrantEntry {
                    subject: g.subject.to_string(),
                    access_level: g.access_level.as_str().to_owned(),
                    conditions: (&g.conditions).into(),
                    expires_at: g.expires_at,
                    ..Default::default()
                };
                match &g.target {
                    Target::Server(id) => entry.server = Some(server_names.get(id.as_str())?.to_string()),
                    Target::Tool(id) => {
                        let (server, tool) = tool_names.get(id.as_str())?;
                        (entry.server, entry.tool) = (Some(server.to_string()), Some(tool.to_string()));
                    }
                    Target::Toolkit(id) => entry.toolkit = Some(kit_names.get(id.as_str())?.to_string()),
                }
                Some(entry)
            })
            .collect();
        grants.sort_by_key(|g| (g.subject.clone(), target_label(g)));

        let (rules, _) = self.access.list_rules(actor, None, &ListQuery::default()).await?;
        let mut role_rules: Vec<RuleEntry> = rules
            .iter()
            .map(|r| RuleEntry {
                role: r.role.as_str().to_owned(),
                tool_pattern: r.tool_pattern.clone(),
                server_pattern: r.server_pattern.clone(),
                access_level: r.access_level.as_str().to_owned(),
                conditions: (&r.conditions).into(),
            })
            .collect();
        role_rules.sort_by_key(|r| (rule_label(r), r.access_level.clone()));

        let categories = self
            .access
            .category_switches(&actor.tenant)
            .await?
            .into_iter()
            .map(|s| CategoryEntry { name: s.name, enabled: s.enabled })
            .collect();
        let sealed = sealer.map(|s| s.sealing().clone());
        Ok(Document { format: FORMAT.to_owned(), sealed, servers, toolkits, grants, role_rules, categories })
    }

    /// Imports a document into the actor's tenant (administrators only), or reports what it
    /// would change; `sealer` opens a sealed document ([`Sealer::opening`]). Every entry is
    /// checked before anything is written; a write that fails undoes the import's earlier
    /// writes.
    pub async fn import(
        &self,
        actor: &Principal,
        document: Document,
        sealer: Option<&Sealer>,
        options: ImportOptions,
    ) -> DomainResult<ImportReport> {
        actor.require_admin("import configuration")?;
        let counts = [
            ("servers", document.servers.len()),
            ("toolkits", document.toolkits.len()),
            ("grants", document.grants.len()),
            ("role_rules", document.role_rules.len()),
            ("categories", document.categories.len()),
        ];
        if let Some((field, _)) = counts.iter().find(|(_, n)| *n > ITEMS_MAX) {
            return Err(DomainError::invalid(*field, format!("at most {ITEMS_MAX} entries")));
        }
        if document.sealed.is_some() && sealer.is_none() {
            return Err(DomainError::invalid("passphrase", "the document is sealed: give its passphrase"));
        }
        let open = |sealed: &str| -> DomainResult<String> {
            sealer.ok_or_else(|| DomainError::invalid("sealed", "the document is not sealed"))?.open(sealed)
        };
        let before = self.export(actor, None).await?;
        let (changes, names) = self.plan(actor, &document, &before, options.conflicts, &open)?;
        if options.dry_run {
            return Ok(ImportReport { dry_run: true, changes });
        }
        let mut undo = Vec::new();
        match self.apply(actor, &document, &before, &changes, &names, &open, &mut undo).await {
            Ok(()) => Ok(ImportReport { dry_run: false, changes }),
            Err(error) => {
                self.undo(actor, undo).await;
                Err(error)
            }
        }
    }

    /// Decides what happens to each entry, and checks each as its write will.
    #[allow(clippy::type_complexity)]
    fn plan(
        &self,
        actor: &Principal,
        document: &Document,
        before: &Document,
        conflicts: Conflicts,
        open: &dyn Fn(&str) -> DomainResult<String>,
    ) -> DomainResult<(Vec<ImportChange>, Names)> {
        let mut changes = Vec::new();
        let mut names = Names::default();
        let mut taken_servers: Vec<String> = before.servers.iter().map(|s| s.name.clone()).collect();
        taken_servers.push(crate::builtin::SERVER_NAME.to_owned());
        for entry in &document.servers {
            let mut input = entry.to_new_server(open)?;
            let exists = taken_servers.contains(&entry.name);
            let action = Self::decide(exists, conflicts, &entry.name, &mut taken_servers, "server", &mut changes);
            if let Some(new_name) = &action {
                names.servers.insert(entry.name.clone(), new_name.clone());
                input.name = new_name.clone();
            }
            if !exists || action.is_some() {
                self.servers.check_new(actor, input)?;
            } else {
                entry.replacement(open)?;
            }
        }
        let mut taken_kits: Vec<String> = before.toolkits.iter().map(|k| k.name.clone()).collect();
        for entry in &document.toolkits {
            let exists = taken_kits.contains(&entry.name);
            if let Some(new_name) =
                Self::decide(exists, conflicts, &entry.name, &mut taken_kits, "toolkit", &mut changes)
            {
                names.toolkits.insert(entry.name.clone(), new_name);
            }
            for tool in &entry.tools {
                if tool.server.is_some() != tool.tool.is_some() {
                    return Err(DomainError::invalid("toolkits.tools", "a server tool names both server and tool"));
                }
                if let Some(sealed) = &tool.sealed_config {
                    serde_json::from_str::<serde_json::Value>(&open(sealed)?)
                        .map_err(|_| DomainError::invalid("toolkits.tools.sealed_config", "is not JSON"))?;
                }
            }
        }
        let key = |g: &GrantEntry| (g.subject.clone(), target_label(g));
        let existing_grants: Vec<_> = before.grants.iter().map(key).collect();
        for entry in &document.grants {
            entry.subject.parse::<Subject>().map_err(|e| DomainError::invalid("grants.subject", e))?;
            level(&entry.access_level, "grants.access_level")?;
            if entry.server.is_none() && entry.toolkit.is_none() {
                return Err(DomainError::invalid("grants", "a grant names a server, a tool or a toolkit"));
            }
            let renamed = GrantEntry {
                server: entry.server.as_deref().map(|s| names.server(s).to_owned()),
                toolkit: entry.toolkit.as_deref().map(|k| names.toolkit(k).to_owned()),
                ..entry.clone()
            };
            let label = format!("{} on {}", entry.subject, target_label(&renamed));
            let exists = existing_grants.contains(&key(&renamed));
            changes.push(change("grant", label, Self::unnamed_action(exists, conflicts)));
        }
        let existing_rules: Vec<String> = before.role_rules.iter().map(rule_label).collect();
        for entry in &document.role_rules {
            entry.role.parse::<crate::Role>().map_err(|_| DomainError::invalid("role_rules.role", "is no role"))?;
            level(&entry.access_level, "role_rules.access_level")?;
            let exists = existing_rules.contains(&rule_label(entry));
            changes.push(change("role_rule", rule_label(entry), Self::unnamed_action(exists, conflicts)));
        }
        for entry in &document.categories {
            crate::category::validate_name(&entry.name)?;
            // Categories without a stored switch are enabled; setting one is no conflict.
            let stored = before.categories.iter().find(|c| c.name == entry.name).map(|c| c.enabled);
            let action = match (stored, conflicts) {
                (None, _) if entry.enabled => "skip",
                (None, _) => "create",
                (Some(enabled), _) if enabled == entry.enabled => "skip",
                (Some(_), Conflicts::Skip) => "skip",
                (Some(_), _) => "update",
            };
            changes.push(change("category", entry.name.clone(), action));
        }
        Ok((changes, names))
    }

    /// Records the action on a named entry; returns the new name of a renamed one.
    fn decide(
        exists: bool,
        conflicts: Conflicts,
        name: &str,
        taken: &mut Vec<String>,
        kind: &'static str,
        changes: &mut Vec<ImportChange>,
    ) -> Option<String> {
        let (action, renamed_to) = match (exists, conflicts) {
            (false, _) => ("create", None),
            (true, Conflicts::Skip) => ("skip", None),
            (true, Conflicts::Update) => ("update", None),
            (true, Conflicts::Rename) => {
                let free = (2..).map(|n| format!("{name}-{n}")).find(|n| !taken.contains(n)).unwrap_or_default();
                ("rename", Some(free))
            }
        };
        taken.push(renamed_to.clone().unwrap_or_else(|| name.to_owned()));
        changes.push(ImportChange { kind, name: name.to_owned(), action, renamed_to: renamed_to.clone() });
        renamed_to
    }

    fn unnamed_action(exists: bool, conflicts: Conflicts) -> &'static str {
        match (exists, conflicts) {
            (false, _) => "create",
            (true, Conflicts::Update) => "update",
            (true, _) => "skip",
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        actor: &Principal,
        document: &Document,
        before: &Document,
        changes: &[ImportChange],
        names: &Names,
        open: &dyn Fn(&str) -> DomainResult<String>,
        undo: &mut Vec<Undo>,
    ) -> DomainResult<()> {
        let mut changes = changes.iter();
        for entry in &document.servers {
            let planned = changes.next().map(|c| c.action).unwrap_or("skip");
            match planned {
                "create" | "rename" => {
                    let mut input = entry.to_new_server(open)?;
                    input.name = names.server(&entry.name).to_owned();
                    let view = self.servers.create(actor, input).await?;
                    undo.push(Undo::DeleteServer(view.server.id.clone()));
                    self.settle_server(actor, &view.server.id, entry).await?;
                }
                "update" => {
                    let current = self.server_named(actor, &entry.name).await?;
                    if let Some(old) = before.servers.iter().find(|s| s.name == entry.name) {
                        undo.push(Undo::RestoreServer(Box::new(old.clone())));
                    }
                    self.servers.update(actor, &current.id, entry.replacement(open)?).await?;
                    self.settle_server(actor, &current.id, entry).await?;
                }
                _ => {}
            }
        }
        for entry in &document.toolkits {
            let planned = changes.next().map(|c| c.action).unwrap_or("skip");
            let name = names.toolkit(&entry.name).to_owned();
            match planned {
                "create" | "rename" => {
                    let server_id = match &entry.server {
                        Some(server) => Some(self.server_named(actor, names.server(server)).await?.id),
                        None => None,
                    };
                    let input = NewToolkit {
                        name: name.clone(),
                        display_name: entry.display_name.clone(),
                        description: entry.description.clone(),
                        server_id,
                        owner_id: entry.owner_id.clone(),
                    };
                    let kit = self.toolkits.create(actor, input).await?;
                    undo.push(Undo::DeleteToolkit(kit.id.clone()));
                    self.fill_toolkit(actor, &kit.id, entry, names, open).await?;
                }
                "update" => {
                    if let Some(old) = before.toolkits.iter().find(|k| k.name == entry.name) {
                        undo.push(Undo::RestoreToolkit(old.clone()));
                    }
                    self.replace_toolkit(actor, entry, names, open).await?;
                }
                _ => {}
            }
        }
        for entry in &document.grants {
            let planned = changes.next().map(|c| c.action).unwrap_or("skip");
            if planned == "skip" {
                continue;
            }
            let subject: Subject = entry.subject.parse().map_err(|e| DomainError::invalid("grants.subject", e))?;
            let target = self.target_of(actor, entry, names).await?;
            let access_level = level(&entry.access_level, "grants.access_level")?;
            let conditions: crate::access::Conditions = entry.conditions.clone().into();
            if planned == "create" {
                let input = NewGrant { subject, target, access_level, conditions, expires_at: entry.expires_at };
                let grant = self.access.grant(actor, input).await?;
                undo.push(Undo::RevokeGrant(grant.id));
                continue;
            }
            let filter = GrantFilter { subject: Some(subject), target: Some(target) };
            let (found, _) = self.access.list_grants(actor, &filter, &ListQuery::default()).await?;
            let Some(old) = found.into_iter().next() else { continue };
            undo.push(Undo::RestoreGrant(old.clone()));
            self.access.update_grant(actor, &old.id, grant_patch(access_level, &conditions, entry.expires_at)).await?;
        }
        let (rules, _) = self.access.list_rules(actor, None, &ListQuery::default()).await?;
        for entry in &document.role_rules {
            let planned = changes.next().map(|c| c.action).unwrap_or("skip");
            let input = RuleInput {
                role: entry.role.parse().map_err(|_| DomainError::invalid("role_rules.role", "is no role"))?,
                tool_pattern: entry.tool_pattern.clone(),
                server_pattern: entry.server_pattern.clone(),
                access_level: level(&entry.access_level, "role_rules.access_level")?,
                conditions: entry.conditions.clone().into(),
            };
            match planned {
                "create" => {
                    let rule = self.access.create_rule(actor, input).await?;
                    undo.push(Undo::DeleteRule(rule.id));
                }
                "update" => {
                    let same = |r: &&RoleRule| {
                        r.role == input.role
                            && r.tool_pattern == input.tool_pattern
                            && r.server_pattern == input.server_pattern
                    };
                    if let Some(old) = rules.iter().find(same) {
                        undo.push(Undo::RestoreRule(old.clone()));
                        self.access.update_rule(actor, &old.id, input).await?;
                    }
                }
                _ => {}
            }
        }
        for entry in &document.categories {
            if matches!(changes.next().map(|c| c.action), Some("create" | "update")) {
                self.access.set_category_enabled(actor, &entry.name, entry.enabled).await?;
                undo.push(Undo::Category(entry.name.clone(), !entry.enabled));
            }
        }
        Ok(())
    }

    /// Runs or stops a server as its entry says, and sets its tools' switches.
    async fn settle_server(&self, actor: &Principal, id: &str, entry: &ServerEntry) -> DomainResult<()> {
        let server = self.servers.get(actor, id).await?;
        let running = server.server.status == ServerStatus::Enabled;
        match entry.enabled {
            Some(true) if !running => drop(self.lifecycle.enable(actor, id).await?),
            Some(false) if running => drop(self.lifecycle.disable(actor, id).await?),
            _ => {}
        }
        let server = self.servers.get(actor, id).await?;
        for tool in &server.tools {
            let disabled = entry.disabled_tools.contains(&tool.name);
            if disabled != (tool.status == ToolStatus::Disabled) && tool.status != ToolStatus::Unavailable {
                self.tools.set_tool_enabled(actor, &tool.id, !disabled).await?;
            }
        }
        Ok(())
    }

    async fn server_named(&self, actor: &Principal, name: &str) -> DomainResult<ToolServer> {
        let found = self.servers.find_by_name(actor, name).await?;
        found.ok_or_else(|| DomainError::not_found(crate::ResourceKind::ToolServer, name))
    }

    /// The id of a server's tool, by names.
    async fn tool_named(&self, actor: &Principal, server: &str, tool: &str) -> DomainResult<String> {
        let server = self.server_named(actor, server).await?;
        let tools = self.catalogue.list_for_servers(&actor.tenant, std::slice::from_ref(&server.id)).await?;
        tools
            .into_iter()
            .find(|t| t.name == tool)
            .map(|t| t.id)
            .ok_or_else(|| DomainError::not_found(crate::ResourceKind::Tool, format!("{}/{tool}", server.name)))
    }

    async fn target_of(&self, actor: &Principal, entry: &GrantEntry, names: &Names) -> DomainResult<Target> {
        match (&entry.server, &entry.tool, &entry.toolkit) {
            (Some(server), Some(tool), _) => {
                Ok(Target::Tool(self.tool_named(actor, names.server(server), tool).await?))
            }
            (Some(server), None, _) => Ok(Target::Server(self.server_named(actor, names.server(server)).await?.id)),
            (None, _, Some(toolkit)) => Ok(Target::Toolkit(self.toolkits.get(actor, names.toolkit(toolkit)).await?.id)),
            _ => Err(DomainError::invalid("grants", "a grant names a server, a tool or a toolkit")),
        }
    }

    /// Adds a toolkit entry's tools to a toolkit.
    async fn fill_toolkit(
        &self,
        actor: &Principal,
        kit_id: &str,
        entry: &ToolkitEntry,
        names: &Names,
        open: &dyn Fn(&str) -> DomainResult<String>,
    ) -> DomainResult<()> {
        for tool in &entry.tools {
            let tool_id = match (&tool.server, &tool.tool) {
                (Some(server), Some(name)) => Some(self.tool_named(actor, names.server(server), name).await?),
                _ => None,
            };
            let config = match &tool.sealed_config {
                Some(sealed) => Some(
                    serde_json::from_str(&open(sealed)?)
                        .map_err(|_| DomainError::invalid("toolkits.tools.sealed_config", "is not JSON"))?,
                ),
                None => tool.config.clone(),
            };
            let input = NewToolkitTool {
                tool_id,
                name: tool.name.clone(),
                description: tool.description.clone(),
                kind: tool.kind.clone(),
                parameters: tool.parameters.clone(),
                config,
                sort_order: Some(tool.sort_order),
            };
            self.toolkits.add_tool(actor, kit_id, input).await?;
        }
        Ok(())
    }

    /// Makes an existing toolkit its entry: fields, then every tool.
    async fn replace_toolkit(
        &self,
        actor: &Principal,
        entry: &ToolkitEntry,
        names: &Names,
        open: &dyn Fn(&str) -> DomainResult<String>,
    ) -> DomainResult<()> {
        let kit = self.toolkits.get(actor, &entry.name).await?;
        let server_id = match &entry.server {
            Some(server) => crate::Patch::Value(self.server_named(actor, names.server(server)).await?.id),
            None => crate::Patch::Null,
        };
        let patch = ToolkitPatch {
            display_name: entry.display_name.clone(),
            description: entry.description.clone().map_or(crate::Patch::Null, crate::Patch::Value),
            server_id,
            owner_id: entry.owner_id.clone(),
            expected_version: None,
        };
        self.toolkits.update(actor, &kit.id, patch).await?;
        for tool in self.toolkits.contents(actor, &kit.id).await?.tools {
            self.toolkits.remove_tool(actor, &kit.id, &tool.entry.id).await?;
        }
        self.fill_toolkit(actor, &kit.id, entry, names, open).await
    }

    /// Takes back an import's writes, newest first; each is tried whatever the others do.
    async fn undo(&self, actor: &Principal, undo: Vec<Undo>) {
        let as_given = |value: &str| -> DomainResult<String> { Ok(value.to_owned()) };
        let no_names = Names::default();
        for step in undo.into_iter().rev() {
            let result = match step {
                Undo::DeleteServer(id) => self.servers.delete(actor, &id).await,
                Undo::RestoreServer(entry) => match self.server_named(actor, &entry.name).await {
                    Ok(server) => match entry.replacement(&as_given) {
                        Ok(patch) => self.servers.update(actor, &server.id, patch).await.map(drop),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                },
                Undo::DeleteToolkit(id) => self.toolkits.delete(actor, &id, true).await,
                Undo::RestoreToolkit(entry) => self.replace_toolkit(actor, &entry, &no_names, &as_given).await,
                Undo::RevokeGrant(id) => self.access.revoke(actor, &id).await,
                Undo::RestoreGrant(old) => {
                    let patch = grant_patch(old.access_level, &old.conditions, old.expires_at);
                    self.access.update_grant(actor, &old.id, patch).await.map(drop)
                }
                Undo::DeleteRule(id) => self.access.delete_rule(actor, &id).await,
                Undo::RestoreRule(old) => {
                    let input = RuleInput {
                        role: old.role,
                        tool_pattern: old.tool_pattern,
                        server_pattern: old.server_pattern,
                        access_level: old.access_level,
                        conditions: old.conditions,
                    };
                    self.access.update_rule(actor, &old.id, input).await.map(drop)
                }
                Undo::Category(name, enabled) => {
                    self.access.set_category_enabled(actor, &name, enabled).await.map(drop)
                }
            };
            if let Err(error) = result {
                tracing::warn!(%error, "an import could not take back one of its writes");
            }
        }
    }
}

/// A grant's level, conditions and expiry as a change.
fn grant_patch(
    access_level: AccessLevel,
    conditions: &crate::access::Conditions,
    expires_at: Option<crate::Timestamp>,
) -> GrantPatch {
    use crate::Patch;
    let set = |value: Option<u32>| value.map_or(Patch::Null, Patch::Value);
    GrantPatch {
        access_level: Some(access_level),
        rate_limit_per_hour: set(conditions.rate_limit_per_hour),
        rate_limit_per_day: set(conditions.rate_limit_per_day),
        allowed_hours: conditions.allowed_hours.clone().map_or(Patch::Null, Patch::Value),
        allowed_days: conditions.allowed_days.clone().map_or(Patch::Null, Patch::Value),
        expires_at: expires_at.map_or(Patch::Null, Patch::Value),
    }
}
