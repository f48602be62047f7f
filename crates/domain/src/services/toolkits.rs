//! Toolkits: making and editing them, their tools, syncs, and what of them a principal may see
//! or call. The rules (who may create, edit, share) are in docs/architecture.md ("Toolkits").

use std::{collections::HashMap, sync::Arc};

use serde_json::Value;

use crate::{
    DomainError, Principal, ResourceKind, Role,
    access::{AccessLevel, ToolRef},
    api_request::ApiRequest,
    calls::{ArgumentsValidator, compile_schema},
    error::DomainResult,
    new_id,
    ports::{Clock, ToolkitRepository},
    query::ListQuery,
    server::ToolServer,
    services::{AccessService, CALL_TARGET_CACHE_SECS, CatalogueCache},
    tool::Tool,
    toolkit::{
        self, API_REQUEST_TYPE, MCP_TYPE, NewToolkit, NewToolkitTool, SyncedTool, ToolConfig, Toolkit, ToolkitPatch,
        ToolkitTool, limits,
    },
    validation::Validator,
};

/// A tool of a toolkit as listings show it: the stored entry, with the server tool it stands
/// for (and that tool's server) when it is a reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolkitToolView {
    /// The stored toolkit tool.
    pub entry: ToolkitTool,
    /// The server tool and its server, for a reference whose tool exists.
    pub target: Option<(Tool, ToolServer)>,
}

impl ToolkitToolView {
    /// The name in the toolkit: its own, else the server tool's.
    pub fn name(&self) -> &str {
        match (&self.entry.name, &self.target) {
            (Some(name), _) => name,
            (None, Some((tool, _))) => &tool.name,
            (None, None) => "",
        }
    }

    /// The description in the toolkit: its own, else the server tool's.
    pub fn description(&self) -> Option<&str> {
        self.entry.description.as_deref().or_else(|| self.target.as_ref().and_then(|(t, _)| t.description.as_deref()))
    }

    /// The JSON Schema of the arguments: the server tool's for a reference, else its own.
    pub fn parameters(&self) -> Option<&Value> {
        match &self.target {
            Some((tool, _)) => tool.args_schema.as_ref(),
            None => self.entry.parameters.as_ref(),
        }
    }

    /// Whether Toolhub can run it: a reference to an existing server tool, or an `api-request`
    /// tool (other types and unmatched discovered tools are listed only).
    pub fn is_callable(&self) -> bool {
        self.target.is_some() || (self.entry.tool_id.is_none() && self.entry.kind == API_REQUEST_TYPE)
    }
}

/// A toolkit with its tools, in the toolkit's order (`sort_order`, then name).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolkitContents {
    /// The toolkit.
    pub toolkit: Toolkit,
    /// Its tools, in order.
    pub tools: Vec<ToolkitToolView>,
}

/// A toolkit's tool as calls resolve it, with what they make of it (the argument check, the
/// request) made once per copy.
pub struct ResolvedTool {
    /// The toolkit.
    pub toolkit: Toolkit,
    /// The tool, with the server tool it stands for.
    pub view: ToolkitToolView,
    validator: std::sync::OnceLock<Option<ArgumentsValidator>>,
    request: std::sync::OnceLock<Result<ApiRequest, String>>,
}

impl ResolvedTool {
    /// The check of the tool's own `parameters` (a tool standing for a server tool is checked
    /// on that path).
    pub fn arguments_validator(&self) -> Option<&ArgumentsValidator> {
        self.validator.get_or_init(|| compile_schema(self.view.entry.parameters.as_ref())).as_ref()
    }

    /// The request an `api-request` tool's config describes, or why there is none.
    pub fn request(&self) -> Result<&ApiRequest, String> {
        let parsed = self.request.get_or_init(|| {
            let config = self.view.entry.config.as_ref().ok_or_else(|| "the tool has no config".to_owned())?;
            ApiRequest::parse(config.expose()).map_err(|e| format!("config: {e}"))
        });
        parsed.as_ref().map_err(Clone::clone)
    }
}

/// Resolved toolkit tools kept at most; past this the copy starts over.
const RESOLVED_MAX: usize = 10_000;

type ResolvedCache = HashMap<(String, String, String), (u64, std::time::Instant, Arc<ResolvedTool>)>;

/// Toolkits and their tools.
pub struct ToolkitService {
    toolkits: Arc<dyn ToolkitRepository>,
    catalogue: Arc<CatalogueCache>,
    access: Arc<AccessService>,
    clock: Arc<dyn Clock>,
    /// Tools calls resolved, while nothing was written (see [`Self::readable_tool`]).
    resolved: std::sync::Mutex<ResolvedCache>,
}

impl ToolkitService {
    /// The service over `toolkits`, reading servers and tools through `catalogue` and deciding
    /// through `access`.
    pub fn new(
        toolkits: Arc<dyn ToolkitRepository>,
        catalogue: Arc<CatalogueCache>,
        access: Arc<AccessService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { toolkits, catalogue, access, clock, resolved: Default::default() }
    }

    /// Makes a toolkit, owned by the actor (or, for administrators, by the user named).
    /// Power users and above may make toolkits.
    pub async fn create(&self, actor: &Principal, input: NewToolkit) -> DomainResult<Toolkit> {
        if actor.role < Role::PowerUser {
            return Err(DomainError::Forbidden("making toolkits needs the power_user role or above".into()));
        }
        let mut v = Validator::new();
        toolkit::validate_name(&mut v, "name", &input.name);
        validate_texts(&mut v, input.display_name.as_deref(), input.description.as_deref(), input.owner_id.as_deref());
        v.finish()?;
        let owner_id = input.owner_id.unwrap_or_else(|| actor.id.clone());
        if owner_id != actor.id {
            actor.require_admin("make toolkits for someone else")?;
        }
        if let Some(server_id) = &input.server_id {
            self.check_link(actor, server_id).await?;
        }
        let now = self.clock.now();
        let kit = Toolkit {
            id: new_id(),
            tenant: actor.tenant.clone(),
            display_name: input.display_name.unwrap_or_else(|| input.name.clone()),
            name: input.name,
            description: input.description,
            owner_id,
            server_id: input.server_id,
            version: 1,
            created_by: actor.id.clone(),
            created_at: now,
            updated_at: now,
        };
        match self.toolkits.insert(&kit).await {
            Err(DomainError::Conflict(_)) => {
                Err(DomainError::Conflict(format!("a toolkit named '{}' already exists", kit.name)))
            }
            other => other,
        }?;
        Ok(kit)
    }

    /// The toolkits the actor may see that pass `query` (by name unless it sorts otherwise),
    /// and how many passed.
    pub async fn list(&self, actor: &Principal, query: &ListQuery) -> DomainResult<(Vec<Toolkit>, u64)> {
        // Administrators see every toolkit: the database pages; others' pages are cut after
        // their view.
        if actor.is_admin() {
            return self.toolkits.query(&actor.tenant, query).await;
        }
        let (found, _) = self.toolkits.query(&actor.tenant, &query.unpaged()).await?;
        let visible: Vec<Toolkit> =
            found.into_iter().filter(|k| self.level_allows(actor, k, AccessLevel::Read)).collect();
        let total = visible.len() as u64;
        Ok((query.page_of(visible), total))
    }

    /// A toolkit the actor may see, by id, name or `owner:name`.
    pub async fn get(&self, actor: &Principal, key: &str) -> DomainResult<Toolkit> {
        let kit = self.find(&actor.tenant, key).await?;
        if self.level_allows(actor, &kit, AccessLevel::Read) {
            Ok(kit)
        } else {
            Err(DomainError::not_found(ResourceKind::Toolkit, key))
        }
    }

    /// Whether the actor may edit the toolkit (administrators, its owner, holders of `admin`).
    pub fn may_edit(&self, actor: &Principal, kit: &Toolkit) -> bool {
        actor.is_admin() || self.level_allows(actor, kit, AccessLevel::Admin)
    }

    /// Changes a toolkit.
    pub async fn update(&self, actor: &Principal, key: &str, patch: ToolkitPatch) -> DomainResult<Toolkit> {
        let mut kit = self.editable(actor, key).await?;
        let expected = patch.expected_version.unwrap_or(kit.version);
        if expected != kit.version {
            return Err(DomainError::VersionMismatch { kind: ResourceKind::Toolkit, current: kit.version });
        }
        let mut v = Validator::new();
        validate_texts(
            &mut v,
            patch.display_name.as_deref(),
            patch.description.as_value().map(String::as_str),
            patch.owner_id.as_deref(),
        );
        v.finish()?;
        if let Some(owner) = patch.owner_id
            && owner != kit.owner_id
        {
            if !actor.is_admin() && actor.id != kit.owner_id {
                return Err(DomainError::Forbidden(
                    "only the owner or an administrator may hand a toolkit over".into(),
                ));
            }
            kit.owner_id = owner;
        }
        if let crate::Patch::Value(server_id) = &patch.server_id
            && kit.server_id.as_ref() != Some(server_id)
        {
            self.check_link(actor, server_id).await?;
        }
        if let Some(name) = patch.display_name {
            kit.display_name = name;
        }
        patch.description.apply_to(&mut kit.description);
        patch.server_id.apply_to(&mut kit.server_id);
        kit.version += 1;
        kit.updated_at = self.clock.now();
        if !self.toolkits.update(&kit, expected).await? {
            let current = self.find(&actor.tenant, &kit.id).await?.version;
            return Err(DomainError::VersionMismatch { kind: ResourceKind::Toolkit, current });
        }
        self.announce(&kit).await?;
        Ok(kit)
    }

    /// Deletes a toolkit. One shared by grants is refused unless `force`, which removes them.
    pub async fn delete(&self, actor: &Principal, key: &str, force: bool) -> DomainResult<()> {
        let kit = self.editable(actor, key).await?;
        let grants = self.access.toolkit_grants(&kit.tenant, &kit.id).await?;
        if !grants.is_empty() && !force {
            return Err(DomainError::Conflict(format!(
                "the toolkit '{}' is shared by {} grant(s); delete with force=true to remove them too",
                kit.name,
                grants.len()
            )));
        }
        self.access.forget_toolkit(&kit.tenant, &kit.id).await?;
        self.toolkits.delete(&kit.tenant, &kit.id).await?;
        Ok(())
    }

    /// Replaces every grant on a toolkit, as a sharing dialog does: its editors may share it
    /// (its members are only tools they administer, so sharing hands out nothing more than
    /// they could); a grant to everyone is dropped unless an administrator shares.
    pub async fn share(
        &self,
        actor: &Principal,
        key: &str,
        grants: Vec<(crate::access::Subject, AccessLevel)>,
    ) -> DomainResult<(Toolkit, Vec<crate::access::Grant>)> {
        let kit = self.editable(actor, key).await?;
        let grants =
            grants.into_iter().filter(|(s, _)| actor.is_admin() || *s != crate::access::Subject::Public).collect();
        let made = self.access.replace_grants(actor, crate::access::Target::Toolkit(kit.id.clone()), grants).await?;
        Ok((kit, made))
    }

    /// The names of the tenant's toolkits that use a server: linked to it, or holding one of
    /// its tools (sorted). Removing or disabling the server takes those tools from them.
    pub async fn using_server(&self, tenant: &str, server_id: &str) -> DomainResult<Vec<String>> {
        let tools =
            crate::ports::ToolRepository::list_for_servers(self.catalogue.as_ref(), tenant, &[server_id.to_owned()])
                .await?;
        let tool_ids: std::collections::HashSet<&str> = tools.iter().map(|t| t.id.as_str()).collect();
        let holding: std::collections::HashSet<String> = self
            .toolkits
            .memberships()
            .await?
            .into_iter()
            .filter(|(t, member, _)| t == tenant && tool_ids.contains(member.as_str()))
            .map(|(_, _, toolkit)| toolkit)
            .collect();
        let mut names: Vec<String> = self
            .toolkits
            .list(tenant)
            .await?
            .into_iter()
            .filter(|k| holding.contains(&k.id) || k.server_id.as_deref() == Some(server_id))
            .map(|k| k.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// A toolkit the actor may see, with its tools in order.
    pub async fn contents(&self, actor: &Principal, key: &str) -> DomainResult<ToolkitContents> {
        let kit = self.get(actor, key).await?;
        let tools = self.views(&kit).await?;
        Ok(ToolkitContents { toolkit: kit, tools })
    }

    /// The toolkit's tools that the actor may call now, in the toolkit's order: references to
    /// server tools and `api-request` tools the engine lets the actor execute (a scope narrows,
    /// never widens).
    pub async fn callable(&self, actor: &Principal, key: &str) -> DomainResult<ToolkitContents> {
        let mut contents = self.contents(actor, key).await?;
        let kit = &contents.toolkit;
        contents
            .tools
            .retain(|view| view.is_callable() && self.decide(actor, kit, view, AccessLevel::Execute, true).allowed);
        Ok(contents)
    }

    /// The engine's decision on a tool of a toolkit: a reference is decided as its server tool
    /// (in its current state unless `ignore_state`); a tool of the toolkit's own as a tool named
    /// so on a "server" that is the toolkit (so toolkit grants, and role rules by name, reach it).
    pub fn decide(
        &self,
        actor: &Principal,
        kit: &Toolkit,
        view: &ToolkitToolView,
        required: AccessLevel,
        with_state: bool,
    ) -> crate::access::Decision {
        let tool = match &view.target {
            Some((tool, server)) if with_state => ToolRef::of(tool, server),
            Some((tool, server)) => ToolRef::of(tool, server).permission_only(),
            None => ToolRef {
                tool_id: &view.entry.id,
                tool_name: view.name(),
                server_id: &kit.id,
                server_name: &kit.name,
                tool_usable: true,
                server_usable: true,
                category: None,
            },
        };
        self.access.decide(actor, &tool, required)
    }

    /// A tool of a toolkit the actor may see, named as in the toolkit (or by its id), with its
    /// toolkit: the call path's way in. Resolved from a copy kept while nothing is written here
    /// (at most [`CALL_TARGET_CACHE_SECS`]), then decided in memory.
    pub async fn readable_tool(&self, actor: &Principal, key: &str, name: &str) -> DomainResult<Arc<ResolvedTool>> {
        let resolved = self.resolve(&actor.tenant, key, name).await?;
        if !self.level_allows(actor, &resolved.toolkit, AccessLevel::Read) {
            return Err(DomainError::not_found(ResourceKind::Toolkit, key));
        }
        if !self.decide(actor, &resolved.toolkit, &resolved.view, AccessLevel::Read, false).allowed {
            return Err(DomainError::not_found(ResourceKind::ToolkitTool, name));
        }
        Ok(resolved)
    }

    async fn resolve(&self, tenant: &str, key: &str, name: &str) -> DomainResult<Arc<ResolvedTool>> {
        let cache_key = (tenant.to_owned(), key.to_owned(), name.to_owned());
        let generation = self.catalogue.changes().generation();
        {
            let cache = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((kept_generation, at, resolved)) = cache.get(&cache_key)
                && *kept_generation == generation
                && at.elapsed().as_secs() < CALL_TARGET_CACHE_SECS as u64
            {
                return Ok(resolved.clone());
            }
        }
        let kit = self.find(tenant, key).await?;
        let view = self
            .views(&kit)
            .await?
            .into_iter()
            .find(|t| t.name() == name || t.entry.id == name)
            .ok_or_else(|| DomainError::not_found(ResourceKind::ToolkitTool, name))?;
        let resolved = Arc::new(ResolvedTool {
            toolkit: kit,
            view,
            validator: std::sync::OnceLock::new(),
            request: std::sync::OnceLock::new(),
        });
        let mut cache = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= RESOLVED_MAX {
            cache.clear();
        }
        cache.insert(cache_key, (generation, std::time::Instant::now(), resolved.clone()));
        Ok(resolved)
    }

    /// One tool of a toolkit the actor may see.
    pub async fn tool(&self, actor: &Principal, key: &str, tool_id: &str) -> DomainResult<ToolkitToolView> {
        let contents = self.contents(actor, key).await?;
        contents
            .tools
            .into_iter()
            .find(|t| t.entry.id == tool_id)
            .ok_or_else(|| DomainError::not_found(ResourceKind::ToolkitTool, tool_id))
    }

    /// Adds a tool: a reference to a server tool the actor administers (`tool_id`), or a
    /// custom tool (`type` defaults to `api-request`).
    pub async fn add_tool(&self, actor: &Principal, key: &str, input: NewToolkitTool) -> DomainResult<ToolkitToolView> {
        let kit = self.editable(actor, key).await?;
        let existing = self.toolkits.tools(&kit.tenant, &kit.id).await?;
        if existing.len() >= limits::TOOLS_MAX {
            return Err(DomainError::Conflict(format!("a toolkit holds at most {} tools", limits::TOOLS_MAX)));
        }
        let now = self.clock.now();
        let entry = ToolkitTool {
            id: new_id(),
            tenant: kit.tenant.clone(),
            toolkit_id: kit.id.clone(),
            tool_id: None,
            name: None,
            description: None,
            kind: String::new(),
            parameters: None,
            config: None,
            sort_order: 0,
            discovered_at: None,
            discovered_by: None,
            created_at: now,
            updated_at: now,
        };
        let entry = self.fill(actor, entry, input).await?;
        self.check_unique_name(&kit, &existing, &entry).await?;
        self.toolkits.insert_tool(&entry).await?;
        self.announce(&kit).await?;
        self.tool(actor, &kit.id, &entry.id).await
    }

    /// Replaces a tool's fields (as when adding it); a reference keeps its server tool.
    pub async fn update_tool(
        &self,
        actor: &Principal,
        key: &str,
        tool_id: &str,
        input: NewToolkitTool,
    ) -> DomainResult<ToolkitToolView> {
        let kit = self.editable(actor, key).await?;
        let existing = self.toolkits.tools(&kit.tenant, &kit.id).await?;
        let stored = existing
            .iter()
            .find(|t| t.id == tool_id)
            .cloned()
            .ok_or_else(|| DomainError::not_found(ResourceKind::ToolkitTool, tool_id))?;
        if input.tool_id.is_some() && input.tool_id != stored.tool_id {
            return Err(DomainError::invalid("tool_id", "a toolkit tool keeps the server tool it stands for"));
        }
        let input = NewToolkitTool { tool_id: stored.tool_id.clone(), ..input };
        let mut entry = self.fill(actor, stored, input).await?;
        entry.updated_at = self.clock.now();
        self.check_unique_name(&kit, &existing, &entry).await?;
        if !self.toolkits.update_tool(&entry).await? {
            return Err(DomainError::not_found(ResourceKind::ToolkitTool, tool_id));
        }
        self.announce(&kit).await?;
        self.tool(actor, &kit.id, tool_id).await
    }

    /// Removes a tool from a toolkit (the server tool it stands for stays).
    pub async fn remove_tool(&self, actor: &Principal, key: &str, tool_id: &str) -> DomainResult<()> {
        let kit = self.editable(actor, key).await?;
        if !self.toolkits.delete_tool(&kit.tenant, &kit.id, tool_id).await? {
            return Err(DomainError::not_found(ResourceKind::ToolkitTool, tool_id));
        }
        self.announce(&kit).await
    }

    /// Replaces every tool of the toolkit with discovered ones (type `mcp`, stamped now and by
    /// `discovered_by`). In a toolkit linked to a server, each name that server has becomes a
    /// reference to its tool (callable); other names, and every name of an unlinked toolkit,
    /// are listed but not callable through Toolhub.
    pub async fn sync(
        &self,
        actor: &Principal,
        key: &str,
        tools: Vec<SyncedTool>,
        discovered_by: Option<String>,
    ) -> DomainResult<ToolkitContents> {
        let kit = self.editable(actor, key).await?;
        let mut v = Validator::new();
        v.check(tools.len() <= limits::TOOLS_MAX, "tools", || format!("at most {} tools", limits::TOOLS_MAX));
        if let Some(by) = &discovered_by {
            v.text("discoveredBy", by, 1, limits::DISCOVERED_BY_MAX);
        }
        let mut seen = std::collections::HashSet::new();
        for (i, tool) in tools.iter().enumerate() {
            toolkit::validate_tool_name(&mut v, &format!("tools[{i}].name"), &tool.name);
            v.check(seen.insert(tool.name.as_str()), &format!("tools[{i}].name"), || "is listed twice".into());
            if let Some(d) = &tool.description {
                v.text(&format!("tools[{i}].description"), d, 0, limits::DESCRIPTION_MAX);
            }
            if let Some(schema) = &tool.input_schema {
                toolkit::validate_document(&mut v, &format!("tools[{i}].inputSchema"), schema, true);
            }
        }
        v.finish()?;
        let linked: HashMap<String, String> = match &kit.server_id {
            Some(server_id) => {
                let catalogue = self.catalogue.snapshot(&kit.tenant).await?;
                catalogue
                    .tools
                    .iter()
                    .filter(|t| &t.server_id == server_id)
                    .map(|t| (t.name.clone(), t.id.clone()))
                    .collect()
            }
            None => HashMap::new(),
        };
        let now = self.clock.now();
        let entries: Vec<ToolkitTool> = tools
            .into_iter()
            .enumerate()
            .map(|(i, tool)| ToolkitTool {
                id: new_id(),
                tenant: kit.tenant.clone(),
                toolkit_id: kit.id.clone(),
                tool_id: linked.get(&tool.name).cloned(),
                name: Some(tool.name),
                description: tool.description,
                kind: MCP_TYPE.into(),
                parameters: tool.input_schema,
                config: None,
                sort_order: i32::try_from(i).unwrap_or(i32::MAX),
                discovered_at: Some(now),
                discovered_by: discovered_by.clone(),
                created_at: now,
                updated_at: now,
            })
            .collect();
        self.toolkits.replace_tools(&kit.tenant, &kit.id, &entries).await?;
        self.announce(&kit).await?;
        self.contents(actor, &kit.id).await
    }

    /// Finds a toolkit of the tenant by id, by name, or by `owner:name` (seed 004's compound key).
    async fn find(&self, tenant: &str, key: &str) -> DomainResult<Toolkit> {
        if let Some(kit) = self.toolkits.get(tenant, key).await? {
            return Ok(kit);
        }
        let (owner, name) = match key.rsplit_once(':') {
            Some((owner, name)) => (Some(owner), name),
            None => (None, key),
        };
        match self.toolkits.find_by_name(tenant, name).await? {
            Some(kit) if owner.is_none_or(|o| o == kit.owner_id) => Ok(kit),
            _ => Err(DomainError::not_found(ResourceKind::Toolkit, key)),
        }
    }

    /// The owner holds `admin`; everyone else what the engine decides on the toolkit.
    fn level_allows(&self, actor: &Principal, kit: &Toolkit, required: AccessLevel) -> bool {
        actor.id == kit.owner_id || self.access.decide_toolkit(actor, &kit.id, required).allowed
    }

    /// A toolkit the actor may see and edit (seen but not editable: 403).
    async fn editable(&self, actor: &Principal, key: &str) -> DomainResult<Toolkit> {
        let kit = self.get(actor, key).await?;
        if self.may_edit(actor, &kit) {
            Ok(kit)
        } else {
            Err(DomainError::Forbidden(format!("editing the toolkit '{}' needs admin access to it", kit.name)))
        }
    }

    /// A server a toolkit may be linked to: one the actor administers (its tools become the
    /// toolkit's on sync).
    async fn check_link(&self, actor: &Principal, server_id: &str) -> DomainResult<()> {
        let server = self.access.visible_server(actor, server_id).await?;
        self.access.require_manage(actor, &server)
    }

    /// Applies a tool input to an entry, checking it.
    async fn fill(
        &self,
        actor: &Principal,
        mut entry: ToolkitTool,
        input: NewToolkitTool,
    ) -> DomainResult<ToolkitTool> {
        let mut v = Validator::new();
        if let Some(name) = &input.name {
            toolkit::validate_tool_name(&mut v, "name", name);
        }
        toolkit::validate_tool_texts(&mut v, input.description.as_deref(), input.kind.as_deref(), input.sort_order);
        if let Some(parameters) = &input.parameters {
            toolkit::validate_document(&mut v, "parameters", parameters, true);
        }
        if let Some(config) = &input.config {
            v.check(config.is_object() || config.is_string(), "config", || "must be JSON text or an object".into());
            toolkit::validate_document(&mut v, "config", config, false);
        }
        match &input.tool_id {
            Some(_) => {
                v.check(input.kind.as_deref().is_none_or(|k| k == MCP_TYPE), "type", || {
                    format!("a reference to a server tool has type '{MCP_TYPE}'")
                });
                v.check(input.config.is_none(), "config", || "a reference to a server tool has no config".into());
                v.check(input.parameters.is_none(), "parameters", || {
                    "a reference to a server tool takes the tool's input schema".into()
                });
            }
            None => v.check(input.name.is_some(), "name", || "a custom tool needs a name".into()),
        }
        v.finish()?;
        if let Some(tool_id) = &input.tool_id
            && entry.tool_id.as_ref() != Some(tool_id)
        {
            self.check_reference(actor, tool_id).await?;
        }
        entry.kind = match &input.tool_id {
            Some(_) => MCP_TYPE.into(),
            None => input.kind.unwrap_or_else(|| API_REQUEST_TYPE.into()),
        };
        // An api-request tool's config decides where Toolhub sends requests, from its network
        // position: like registering a server, that is an administrator's to write.
        if entry.kind == API_REQUEST_TYPE && input.config.is_some() {
            actor.require_admin("write the request of an api-request tool")?;
        }
        entry.config = input.config.map(|c| ToolConfig::merged(c, entry.config.as_ref()));
        entry.tool_id = input.tool_id;
        entry.name = input.name;
        entry.description = input.description;
        entry.parameters = input.parameters;
        entry.sort_order = input.sort_order.unwrap_or(0);
        Ok(entry)
    }

    /// A server tool may join a toolkit by the hand of someone who administers it: a toolkit
    /// shared by grants must not hand out tools its editors could not share themselves.
    async fn check_reference(&self, actor: &Principal, tool_id: &str) -> DomainResult<()> {
        let missing = || DomainError::not_found(ResourceKind::Tool, tool_id);
        let target = self.catalogue.call_target(&actor.tenant, crate::services::ToolSelector::Id(tool_id)).await?;
        let permitted = ToolRef::of(&target.tool, &target.server).permission_only();
        if !self.access.decide(actor, &permitted, AccessLevel::Read).allowed {
            return Err(missing());
        }
        if !actor.is_admin() && !self.access.decide(actor, &permitted, AccessLevel::Admin).allowed {
            return Err(DomainError::Forbidden(format!(
                "putting '{}' in a toolkit needs admin access to it",
                target.tool.name
            )));
        }
        Ok(())
    }

    /// Names are unique in a toolkit (they name its tools over MCP).
    async fn check_unique_name(
        &self,
        kit: &Toolkit,
        existing: &[ToolkitTool],
        entry: &ToolkitTool,
    ) -> DomainResult<()> {
        let mut others: Vec<ToolkitTool> = existing.iter().filter(|t| t.id != entry.id).cloned().collect();
        others.push(entry.clone());
        let views = self.view_entries(&kit.tenant, others).await?;
        let name = views.last().map(|v| v.name().to_owned()).unwrap_or_default();
        if views[..views.len() - 1].iter().any(|v| v.name() == name) {
            return Err(DomainError::Conflict(format!("the toolkit '{}' already has a tool named '{name}'", kit.name)));
        }
        Ok(())
    }

    async fn views(&self, kit: &Toolkit) -> DomainResult<Vec<ToolkitToolView>> {
        let entries = self.toolkits.tools(&kit.tenant, &kit.id).await?;
        let mut views = self.view_entries(&kit.tenant, entries).await?;
        views.sort_by(|a, b| (a.entry.sort_order, a.name()).cmp(&(b.entry.sort_order, b.name())));
        Ok(views)
    }

    async fn view_entries(&self, tenant: &str, entries: Vec<ToolkitTool>) -> DomainResult<Vec<ToolkitToolView>> {
        let catalogue = self.catalogue.snapshot(tenant).await?;
        let servers: HashMap<&str, &ToolServer> = catalogue.servers.iter().map(|s| (s.id.as_str(), s)).collect();
        let tools: HashMap<&str, &Tool> = catalogue.tools.iter().map(|t| (t.id.as_str(), t)).collect();
        Ok(entries
            .into_iter()
            .map(|entry| {
                let target = entry.tool_id.as_deref().and_then(|id| tools.get(id)).and_then(|tool| {
                    servers.get(tool.server_id.as_str()).map(|server| ((*tool).clone(), (*server).clone()))
                });
                ToolkitToolView { entry, target }
            })
            .collect())
    }

    /// Puts the toolkit's memberships in the access index (server tools by their id, its own
    /// tools by theirs), which also tells the MCP gateway's sessions that what they show may
    /// have changed.
    async fn announce(&self, kit: &Toolkit) -> DomainResult<()> {
        let members: Vec<String> =
            self.toolkits.tools(&kit.tenant, &kit.id).await?.into_iter().map(|t| t.tool_id.unwrap_or(t.id)).collect();
        self.access.patch_index(|i| i.set_toolkit_members(&kit.tenant, &kit.id, &members));
        Ok(())
    }
}

fn validate_texts(v: &mut Validator, display_name: Option<&str>, description: Option<&str>, owner: Option<&str>) {
    if let Some(name) = display_name {
        v.text("display_name", name, 1, limits::DISPLAY_NAME_MAX);
    }
    if let Some(d) = description {
        v.text("description", d, 0, limits::DESCRIPTION_MAX);
    }
    if let Some(owner) = owner {
        v.text("owner_id", owner, 1, crate::access::limits::SUBJECT_ID_MAX);
    }
}
