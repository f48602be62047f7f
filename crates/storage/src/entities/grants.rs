use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub target_kind: String,
    pub target_id: String,
    pub access_level: String,
    pub rate_limit_per_hour: Option<i32>,
    pub rate_limit_per_day: Option<i32>,
    pub allowed_hours: Option<Json>,
    pub allowed_days: Option<Json>,
    pub expires_at: Option<DateTimeUtc>,
    pub granted_by: String,
    pub granted_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub usage_count: i64,
    pub last_used: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
