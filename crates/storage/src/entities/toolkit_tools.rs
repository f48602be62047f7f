use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "toolkit_tools")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant: String,
    pub toolkit_id: String,
    pub tool_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: String,
    pub parameters: Option<Json>,
    pub config_sealed: Option<String>,
    pub sort_order: i32,
    pub discovered_at: Option<DateTimeUtc>,
    pub discovered_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
