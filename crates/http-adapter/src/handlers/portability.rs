//! Export and import of a tenant's configuration (`/api/v1/export`, `/api/v1/import`); the
//! document's format is in docs/api-guide.md (Export and import).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use toolhub_domain::{
    DomainError,
    portable::{Sealer, read_document},
    services::{Conflicts, ImportOptions, ImportReport},
};
use utoipa::{IntoParams, ToSchema};

use crate::{AppState, auth::Caller, extract::Json, problem::ApiError};

crate::problems! {
    ExportConfigurationErrors = [ValidationFailed] + PROTECTED;
    ImportConfigurationErrors = [Conflict, ServerNotFound, ToolNotFound, ToolkitNotFound, InvalidSpec, CategoryNotFound] + UPSTREAM + BODY + PROTECTED;
}

/// The header that carries the passphrase secrets are sealed with.
pub const PASSPHRASE_HEADER: &str = "X-Toolhub-Passphrase";

/// Characters of a passphrase.
const PASSPHRASE_MAX: usize = 1_000;

/// The passphrase that seals (export) or opens (import) secret values.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documents the header; the handlers read it from the request
pub struct PassphraseHeader {
    /// Secret values are sealed with it (export) or opened with it (import); without it an
    /// export leaves them out.
    // Visible ASCII without spaces at either end (HTTP drops them, and a header holds no more).
    #[param(rename = "X-Toolhub-Passphrase", min_length = 1, max_length = 1000, pattern = "^[!-~]([ -~]*[!-~])?$")]
    x_toolhub_passphrase: Option<String>,
}

fn passphrase(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(PASSPHRASE_HEADER) else { return Ok(None) };
    let text = value.to_str().ok().filter(|t| !t.is_empty() && t.chars().count() <= PASSPHRASE_MAX);
    let text = text.ok_or_else(|| DomainError::invalid(PASSPHRASE_HEADER, "must be 1 to 1000 visible characters"))?;
    Ok(Some(text.to_owned()))
}

/// How an import is made.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Report what would change, and change nothing.
    pub dry_run: Option<bool>,
    /// A name already taken: `skip` the entry (default), `update` the existing one, or
    /// `rename` the entry (`<name>-2`, ...).
    #[param(pattern = "^(skip|update|rename)$")]
    pub conflicts: Option<String>,
}

/// One change of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportChangeDto {
    /// `server`, `toolkit`, `grant`, `role_rule` or `category`.
    pub kind: String,
    pub name: String,
    /// `create`, `update`, `skip` or `rename`.
    pub action: String,
    /// The name a renamed entry took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
}

/// What an import did, or would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportDto {
    /// Nothing was written.
    pub dry_run: bool,
    /// Every entry of the document, in the order it is applied.
    pub changes: Vec<ImportChangeDto>,
}

impl From<ImportReport> for ImportReportDto {
    fn from(r: ImportReport) -> Self {
        let changes = r
            .changes
            .into_iter()
            .map(|c| ImportChangeDto {
                kind: c.kind.to_owned(),
                name: c.name,
                action: c.action.to_owned(),
                renamed_to: c.renamed_to,
            })
            .collect();
        Self { dry_run: r.dry_run, changes }
    }
}

/// Export the tenant's configuration
///
/// Servers (with their tools' switches), toolkits (with their tools), grants, role rules and
/// category switches, named by name (administrators only). Secret values are left out, or
/// sealed with the passphrase of `X-Toolhub-Passphrase`.
#[utoipa::path(
    operation_id = "export_configuration",
    tag = "Export and Import",
    params(PassphraseHeader),
    responses((status = 200, description = "The document (docs/api-guide.md, Export and import)", body = Object), ExportConfigurationErrors)
)]
#[get("/api/v1/export")]
pub async fn export_configuration(
    state: web::Data<AppState>,
    request: HttpRequest,
    Caller(caller): Caller,
) -> Result<HttpResponse, ApiError> {
    let sealer = match passphrase(&request)? {
        // Deriving the key takes a while: not on the worker's thread.
        Some(passphrase) => Some(web::block(move || Sealer::new(&passphrase)).await.map_err(blocked)?),
        None => None,
    };
    let document = state.services.portability.export(&caller, sealer.as_ref()).await?;
    Ok(HttpResponse::Ok().json(document))
}

/// Import a configuration
///
/// Takes an export of any Toolhub, or an `mcpServers` document (Claude Desktop, Cursor, VS
/// Code), into the caller's tenant (administrators only). All or nothing: every entry is
/// checked first, and a write that fails takes back the import's earlier writes. `dry_run`
/// reports what would change.
#[utoipa::path(
    operation_id = "import_configuration",
    tag = "Export and Import",
    params(ImportParams, PassphraseHeader),
    request_body(content = Object, description = "An export, or `{\"mcpServers\": {...}}`"),
    responses((status = 200, description = "What changed, or would", body = ImportReportDto), ImportConfigurationErrors)
)]
#[post("/api/v1/import")]
pub async fn import_configuration(
    state: web::Data<AppState>,
    request: HttpRequest,
    Caller(caller): Caller,
    params: web::Query<ImportParams>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let conflicts = match params.conflicts.as_deref() {
        None | Some("skip") => Conflicts::Skip,
        Some("update") => Conflicts::Update,
        Some("rename") => Conflicts::Rename,
        Some(_) => return Err(DomainError::invalid("conflicts", "must be skip, update or rename").into()),
    };
    let document =
        read_document(body.into_inner()).map_err(|e| DomainError::invalid("body", crate::problem::echo(&e)))?;
    caller.require_admin("import configuration")?;
    let sealer = match (passphrase(&request)?, document.sealed.clone()) {
        // Deriving the key takes a while: not on the worker's thread.
        (Some(passphrase), Some(sealing)) => {
            Some(web::block(move || Sealer::opening(&sealing, &passphrase)).await.map_err(blocked)??)
        }
        _ => None,
    };
    let options = ImportOptions { dry_run: params.dry_run.unwrap_or(false), conflicts };
    let report = state.services.portability.import(&caller, document, sealer.as_ref(), options).await?;
    Ok(HttpResponse::Ok().json(ImportReportDto::from(report)))
}

fn blocked(error: actix_web::error::BlockingError) -> ApiError {
    DomainError::Storage(format!("the passphrase's key could not be derived: {error}")).into()
}
