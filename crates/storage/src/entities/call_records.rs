use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "call_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant: String,
    pub tool_id: Option<String>,
    pub tool_name: String,
    pub server_id: Option<String>,
    pub server_name: String,
    pub principal_id: String,
    pub groups: Json,
    pub arguments: Json,
    pub result_summary: Option<String>,
    pub status: String,
    pub error_code: Option<String>,
    pub duration_ms: f64,
    pub correlation_id: Option<String>,
    pub grant_id: Option<String>,
    pub called_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
