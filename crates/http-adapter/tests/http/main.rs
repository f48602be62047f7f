//! The HTTP adapter on its own: the OpenAPI document, and the request pipeline driven through
//! actix's test service over the domain's in-memory ports (no database, no network).

mod openapi;
mod pipeline;
