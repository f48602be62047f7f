//! The JSON body extractor: like `web::Json`, but its rejections are problems that name the
//! offending field (`timeout`, `oauth_config.token_url`), not just a serde message.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, error::PayloadError, web};
use serde::de::DeserializeOwned;
use toolhub_domain::{ErrorCode, validation::FieldError};

use crate::problem::ApiError;

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get("content-type").and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Every body is an object: serde would read an array into a struct by position.
        read(req, payload, b'{', "a JSON object", Json)
    }
}

/// A JSON body that is a list (Emporix's PATCH operations), read as [`Json`] reads objects.
pub struct JsonList<T>(pub Vec<T>);

impl<T: DeserializeOwned + 'static> FromRequest for JsonList<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read(req, payload, b'[', "a JSON array", JsonList)
    }
}

/// Reads a JSON body that starts with `opening` into `T`, then wraps it.
fn read<T: DeserializeOwned + 'static, W: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    opening: u8,
    kind: &'static str,
    wrap: fn(T) -> W,
) -> Pin<Box<dyn Future<Output = Result<W, ApiError>>>> {
    let json = is_json(req);
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        if !json {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "the request body must be application/json"));
        }
        let bytes = body.await.map_err(payload_error)?;
        if bytes.trim_ascii_start().first() != Some(&opening) {
            return Err(ApiError::new(ErrorCode::MalformedRequest, format!("the body must be {kind}")));
        }
        // Nothing may follow the body (`{...} }}}not json` is not a body).
        let mut body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::new(ErrorCode::MalformedRequest, format!("malformed JSON: {e}")))?;
        integers_as_integers(&mut body, 0);
        serde_path_to_error::deserialize(body).map(wrap).map_err(|e| {
            let field = e.path().to_string();
            let message = strip_position(e.inner());
            ApiError::validation(vec![FieldError::new(field_path(&field, &message), message)])
        })
    })
}

/// JSON Schema counts `2.0` as an integer, and so do clients generated from the document:
/// whole numbers written with a fraction are read as integers. A call's `arguments` (ChatAI's
/// `args`) are the tool's, and pass untouched.
fn integers_as_integers(value: &mut serde_json::Value, depth: usize) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| integers_as_integers(v, depth + 1)),
        Value::Object(fields) => fields
            .iter_mut()
            .filter(|(name, _)| !(depth == 0 && ["arguments", "args"].contains(&name.as_str())))
            .for_each(|(_, v)| integers_as_integers(v, depth + 1)),
        _ => {}
    }
}

/// The path serde stopped at, plus the field a "missing field `x`" message names.
fn field_path(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    }
}

/// serde's "... at line 1 column 80" means nothing once the field is named.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.rsplit_once(" at line ").map(|(message, _)| message.to_owned()).unwrap_or(text)
}

fn payload_error(e: actix_web::Error) -> ApiError {
    match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {} bytes", crate::MAX_BODY_BYTES),
        ),
        _ => ApiError::new(ErrorCode::MalformedRequest, format!("cannot read the body: {e}")),
    }
}
