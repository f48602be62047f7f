use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tool_servers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub base_url: Option<String>,
    pub transport_type: String,
    pub command: Option<String>,
    pub args: Json,
    pub env: Json,
    pub headers: Json,
    pub oauth_config: Option<Json>,
    pub timeout: i32,
    pub auto_start: bool,
    pub auto_update: bool,
    pub max_failures: i32,
    pub status: String,
    pub is_builtin: bool,
    pub last_health_check: Option<DateTimeUtc>,
    pub last_startup_success: Option<DateTimeUtc>,
    pub last_startup_error: Option<String>,
    pub consecutive_failures: i32,
    pub category: Option<String>,
    pub tags: Json,
    /// `{spec, function_filter}` of an OpenAPI server.
    pub openapi: Option<Json>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
