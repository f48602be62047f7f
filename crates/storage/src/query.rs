//! List queries (`toolhub_domain::query`) in SQL: the filter, the order and the page, alike on
//! SQLite and PostgreSQL. A field is the column of its name unless its store computes it; each
//! store's contract test queries every field of its list on both databases.

use sea_orm::{
    Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
    sea_query::{Alias, BinOper, Expr, ExprTrait, NullOrdering},
};
use toolhub_domain::{
    ports::PortResult,
    query::{Comparison, Field, FieldKind, ListQuery, Scalar, Test},
};

use crate::db_error;

/// The SQL of fields that are not a column of their name (an API field made of two columns),
/// valid on both databases.
pub(crate) type Computed = fn(&str) -> Option<&'static str>;

/// No computed fields: every field is the column of its name.
pub(crate) fn columns(_: &str) -> Option<&'static str> {
    None
}

/// A field's value in SQL.
fn raw(field: &Field, computed: Computed) -> Expr {
    match computed(field.name) {
        Some(sql) => Expr::cust(format!("({sql})")),
        None => Expr::col(Alias::new(field.name)),
    }
}

/// A field's value to compare and sort. PostgreSQL compares text by the database's collation,
/// which may ignore case or punctuation; `COLLATE "C"` compares bytes, as SQLite does.
fn column(backend: DbBackend, field: &Field, computed: Computed) -> Expr {
    let value = raw(field, computed);
    match (backend, field.kind) {
        (DbBackend::Postgres, FieldKind::Text) => Expr::cust_with_expr("$1 COLLATE \"C\"", value),
        _ => value,
    }
}

fn value(scalar: &Scalar) -> sea_orm::Value {
    match scalar {
        Scalar::Text(text) => text.clone().into(),
        Scalar::Integer(n) => (*n).into(),
        Scalar::Number(n) => (*n).into(),
        Scalar::Bool(b) => (*b).into(),
        Scalar::Time(t) => (*t).into(),
    }
}

/// The query's terms as one condition (all must hold; so do both bounds of a range).
fn condition(backend: DbBackend, query: &ListQuery, computed: Computed) -> Condition {
    let mut all = Condition::all();
    for term in &query.terms {
        let column = column(backend, term.field, computed);
        let raw = raw(term.field, computed);
        match &term.test {
            Test::Equals(scalar) => all = all.add(column.eq(value(scalar))),
            Test::AnyOf(scalars) => all = all.add(column.is_in(scalars.iter().map(value))),
            Test::Compare(bounds) => {
                for (comparison, scalar) in bounds {
                    let (column, bound) = (column.clone(), value(scalar));
                    all = all.add(match comparison {
                        Comparison::Less => column.lt(bound),
                        Comparison::AtMost => column.lte(bound),
                        Comparison::Greater => column.gt(bound),
                        Comparison::AtLeast => column.gte(bound),
                    });
                }
            }
            // SQLite's REGEXP is Rust's regex engine (sqlx's `regexp`); PostgreSQL's `~` is its
            // own, which reads the subset the domain admits alike.
            Test::Matches(pattern) => {
                let operator = if backend == DbBackend::Postgres { "~" } else { "REGEXP" };
                all = all.add(raw.binary(BinOper::Custom(operator), pattern.clone()));
            }
            Test::Absent => all = all.add(raw.is_null()),
            Test::Present => all = all.add(raw.is_not_null()),
        }
    }
    all
}

/// A query's failure: a regex the database cannot read is the client's (the domain admits
/// the subset both databases read; this catches what slips through); anything else is
/// storage's.
fn refused(error: sea_orm::DbErr) -> toolhub_domain::DomainError {
    if error.to_string().contains("regular expression") {
        return toolhub_domain::DomainError::InvalidQuery("q: the database cannot read this regex".into());
    }
    db_error(error)
}

/// Runs a query on `select` (the tenant's rows already): the page of rows that pass it in its
/// order (then `then`, the list's own order), and how many passed.
pub(crate) async fn run<E>(
    db: &impl ConnectionTrait,
    (select, computed): (Select<E>, Computed),
    query: &ListQuery,
    then: impl FnOnce(Select<E>) -> Select<E>,
) -> PortResult<(Vec<E::Model>, u64)>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    let backend = db.get_database_backend();
    let select = select.filter(condition(backend, query, computed));
    let mut ordered = select.clone();
    for key in &query.sort {
        let order = if key.descending { Order::Desc } else { Order::Asc };
        ordered = ordered.order_by_with_nulls(column(backend, key.field, computed), order, NullOrdering::Last);
    }
    let ordered = then(ordered);
    match query.page {
        Some(page) => {
            let total = select.count(db).await.map_err(refused)?;
            let rows = ordered.limit(page.size).offset(page.offset).all(db).await.map_err(refused)?;
            Ok((rows, total))
        }
        None => {
            let rows = ordered.all(db).await.map_err(refused)?;
            let total = rows.len() as u64;
            Ok((rows, total))
        }
    }
}
