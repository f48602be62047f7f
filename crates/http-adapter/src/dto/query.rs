//! The query parameters of native lists (Emporix style: `q`, `sort`, `pageSize`, `pageNumber`,
//! `fields`, and the `X-Total-Count: true` request header), and the answer they shape. The
//! grammar is in docs/api-guide.md (Queries).

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use toolhub_domain::query::{self, Fields, ListQuery, QueryText};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;

/// How a list is filtered, sorted, paged and cut to fields.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Filter: space-separated `field:predicate` terms, all of which must hold (`name:echo`,
    /// `total_calls:>10`, `name:~^get_`, `category:(a,b)`, `description:null`).
    #[param(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub q: Option<String>,
    /// `field[:asc|:desc],...`, applied left to right; the list's own order breaks ties.
    #[param(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub sort: Option<String>,
    /// Items per page (1 to 1000; 60 when only `pageNumber` is given).
    #[serde(rename = "pageSize")]
    #[param(rename = "pageSize", minimum = 1, maximum = 1000)]
    pub page_size: Option<u64>,
    /// The page, counting from 1 (default 1 when `pageSize` is given).
    #[serde(rename = "pageNumber")]
    #[param(rename = "pageNumber", minimum = 1, maximum = 4294967295u64)]
    pub page_number: Option<u64>,
    /// Comma-separated names of the fields to return (the fields every item has always come).
    #[param(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub fields: Option<String>,
}

/// A search: the filter of a list in the body (for filters too long for a URL).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// As the `q` parameter of the list.
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub q: Option<String>,
}

impl SearchBody {
    /// The filter, which replaces the `q` parameter (no `q` in the body: no filter).
    pub fn filter(&self) -> Option<&str> {
        Some(self.q.as_deref().unwrap_or_default())
    }
}

/// A list query, checked against the list's fields, and the fields to return.
pub struct Shaped {
    /// What to ask storage for.
    pub query: ListQuery,
    /// The fields to keep of each item (`None`: all).
    pub projection: Option<Vec<String>>,
}

impl ListParams {
    /// Checks the parameters against the list's query fields and its items' fields; `q` from a
    /// search body replaces the parameter's.
    pub fn shape(&self, fields: Fields, items: &ItemFields, q: Option<&str>) -> Result<Shaped, ApiError> {
        let text = QueryText {
            q: q.or(self.q.as_deref()),
            sort: self.sort.as_deref(),
            page_size: self.page_size,
            page_number: self.page_number,
        };
        let query = ListQuery::parse(&text, fields)?;
        let projection = self.fields.as_deref().map(|f| query::parse_projection(f, &items.all)).transpose()?;
        // `fields=` naming nothing asks for nothing in particular; the fields every item must
        // have always come, so that items keep their schema.
        let projection = projection.filter(|names| !names.is_empty()).map(|mut names| {
            names.extend(items.required.iter().cloned());
            names
        });
        Ok(Shaped { query, projection })
    }
}

impl Shaped {
    /// The answer: the items (cut to the asked fields) and, when the request asked with
    /// `X-Total-Count: true`, the count of every item that passed in that header.
    pub fn answer(&self, request: &HttpRequest, items: Vec<Value>, total: u64) -> HttpResponse {
        self.respond(request, &self.project(items), total)
    }

    /// `body` (whatever holds the items), with the count header when asked for.
    pub fn respond(&self, request: &HttpRequest, body: &impl serde::Serialize, total: u64) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        if wants_total(request) {
            response.insert_header(("X-Total-Count", total.to_string()));
        }
        response.json(body)
    }

    /// The items cut to the asked fields (and those every item has).
    pub fn project(&self, items: Vec<Value>) -> Vec<Value> {
        let Some(keep) = &self.projection else { return items };
        items
            .into_iter()
            .map(|item| match item {
                Value::Object(map) => Value::Object(map.into_iter().filter(|(k, _)| keep.contains(k)).collect()),
                other => other,
            })
            .collect()
    }
}

/// The top-level fields of a list's items: all that `fields` may name, and those every item has
/// (which always come).
pub struct ItemFields {
    /// Every field.
    pub all: Vec<String>,
    /// The fields the item's schema requires (at least `id`).
    pub required: Vec<String>,
}

impl ItemFields {
    /// The fields of a response item, as its schema documents them.
    pub fn of<T: utoipa::PartialSchema>() -> Self {
        use utoipa::openapi::{RefOr, Schema};
        match T::schema() {
            RefOr::T(Schema::Object(object)) => {
                let mut required = object.required;
                if !required.iter().any(|r| r == "id") {
                    required.push("id".into());
                }
                Self { all: object.properties.into_keys().collect(), required }
            }
            _ => Self { all: vec!["id".into()], required: vec!["id".into()] },
        }
    }

    /// The fields of items without a schema of their own: `id` always comes.
    pub fn named(names: &[&str]) -> Self {
        Self { all: names.iter().map(|n| n.to_string()).collect(), required: vec!["id".into()] }
    }
}

/// Items as JSON, for [`Shaped::answer`].
pub fn serialized<T: serde::Serialize>(items: impl Iterator<Item = T>) -> Result<Vec<Value>, ApiError> {
    items
        .map(|item| serde_json::to_value(item))
        .collect::<Result<_, _>>()
        .map_err(|e| toolhub_domain::DomainError::Storage(format!("an item did not serialize: {e}")).into())
}

/// Whether the request asked for the total count (`X-Total-Count: true`, any case).
fn wants_total(request: &HttpRequest) -> bool {
    request.headers().get("x-total-count").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
}

/// `true` (any case) asks for the count of every item that passed the filter, answered in the
/// `X-Total-Count` header; any other value asks for nothing.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documents the header; the handlers read it from the request
pub struct TotalCountHeader {
    #[param(rename = "X-Total-Count", example = "true")]
    x_total_count: Option<String>,
}
