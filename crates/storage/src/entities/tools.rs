use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tools")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant: String,
    pub server_id: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub args_schema: Option<Json>,
    pub output_schema: Option<Json>,
    pub annotations: Option<Json>,
    pub status: String,
    pub is_available: bool,
    pub bypass_when_unavailable: bool,
    pub category: Option<String>,
    pub sort_order: i32,
    pub discovered_at: Option<DateTimeUtc>,
    pub discovered_by: Option<String>,
    pub total_calls: i64,
    pub total_errors: i64,
    pub last_called: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub avg_response_time_ms: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
