//! List queries (`toolhub_domain::query`) in SQL: the filter, the order and the page, alike on
//! SQLite and PostgreSQL. A field is the column of its name; the domain's field lists name
//! only stored columns, and each store's contract test queries every field on both databases.

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

/// A field's column. PostgreSQL compares text by the database's collation, which may ignore
/// case or punctuation; `COLLATE "C"` compares bytes, as SQLite does.
fn column(backend: DbBackend, field: &Field) -> Expr {
    let column = Expr::col(Alias::new(field.name));
    match (backend, field.kind) {
        (DbBackend::Postgres, FieldKind::Text) => Expr::cust_with_expr("$1 COLLATE \"C\"", column),
        _ => column,
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
fn condition(backend: DbBackend, query: &ListQuery) -> Condition {
    let mut all = Condition::all();
    for term in &query.terms {
        let column = column(backend, term.field);
        let raw = Expr::col(Alias::new(term.field.name));
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

/// Runs a query on `select` (the tenant's rows already): the page of rows that pass it in its
/// order (then `then`, the list's own order), and how many passed.
pub(crate) async fn run<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    query: &ListQuery,
    then: impl FnOnce(Select<E>) -> Select<E>,
) -> PortResult<(Vec<E::Model>, u64)>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    let backend = db.get_database_backend();
    let select = select.filter(condition(backend, query));
    let mut ordered = select.clone();
    for key in &query.sort {
        let order = if key.descending { Order::Desc } else { Order::Asc };
        ordered = ordered.order_by_with_nulls(column(backend, key.field), order, NullOrdering::Last);
    }
    let ordered = then(ordered);
    match query.page {
        Some(page) => {
            let total = select.count(db).await.map_err(db_error)?;
            let rows = ordered.limit(page.size).offset(page.offset()).all(db).await.map_err(db_error)?;
            Ok((rows, total))
        }
        None => {
            let rows = ordered.all(db).await.map_err(db_error)?;
            let total = rows.len() as u64;
            Ok((rows, total))
        }
    }
}
