//! Bearer authentication: API keys (looked up by hash) and JWTs (HS256, RS256, ES256).

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header::HeaderMap};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use toolhub_domain::{
    DomainError, Principal, Role, api_key,
    services::{CredentialSource, Identity},
};

use crate::{AppState, problem::ApiError, rate_limit::Caller as RateCaller};

/// How JWTs are verified and how their claims map onto a principal.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub hs256_secret: Option<String>,
    /// A PEM public key (RSA or EC) for RS256 or ES256 tokens.
    pub public_key_pem: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub role_claim: String,
    pub groups_claim: String,
    pub tenant_claim: String,
    pub name_claim: String,
    /// The role of a token that names none.
    pub default_role: Role,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            public_key_pem: None,
            issuer: None,
            audience: None,
            role_claim: "role".into(),
            groups_claim: "groups".into(),
            tenant_claim: "tenant".into(),
            name_claim: "name".into(),
            default_role: Role::User,
        }
    }
}

/// The shortest HS256 secret accepted, in bytes (the hash's own size).
pub const HS256_SECRET_MIN: usize = 32;

pub struct JwtVerifier {
    keys: Vec<(Algorithm, DecodingKey)>,
    settings: JwtSettings,
}

impl JwtVerifier {
    /// None when no key is configured (JWTs are then refused). An HS256 secret shorter than
    /// [`HS256_SECRET_MIN`] bytes is refused: it could be guessed offline from one token.
    pub fn new(settings: JwtSettings) -> Result<Option<Self>, String> {
        let mut keys = Vec::new();
        if let Some(secret) = &settings.hs256_secret {
            if secret.len() < HS256_SECRET_MIN {
                return Err(format!("the JWT secret must be at least {HS256_SECRET_MIN} bytes"));
            }
            keys.push((Algorithm::HS256, DecodingKey::from_secret(secret.as_bytes())));
        }
        if let Some(pem) = &settings.public_key_pem {
            if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                keys.push((Algorithm::RS256, key));
            } else {
                let key = DecodingKey::from_ec_pem(pem.as_bytes())
                    .map_err(|e| format!("JWT public key is neither an RSA nor an EC PEM key: {e}"))?;
                keys.push((Algorithm::ES256, key));
            }
        }
        if !keys.is_empty() && (settings.issuer.is_none() || settings.audience.is_none()) {
            tracing::warn!(
                "JWTs are accepted without a required issuer or audience (--jwt-issuer, --jwt-audience): \
                 any token signed with the key is trusted, whoever it was issued for"
            );
        }
        Ok((!keys.is_empty()).then_some(Self { keys, settings }))
    }

    /// The issuer tokens must name, if one is required.
    pub fn issuer(&self) -> Option<&str> {
        self.settings.issuer.as_deref()
    }

    pub fn verify(&self, token: &str) -> Result<Identity, DomainError> {
        let invalid = |why: &str| DomainError::Unauthenticated(format!("invalid token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
        let (algorithm, key) =
            self.keys.iter().find(|(alg, _)| *alg == header.alg).ok_or_else(|| invalid("unsupported algorithm"))?;
        let mut validation = Validation::new(*algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        match &self.settings.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.settings.issuer {
            validation.set_issuer(&[iss]);
        }
        let claims =
            jsonwebtoken::decode::<Value>(token, key, &validation).map_err(|e| invalid(&e.to_string()))?.claims;
        self.identity(&claims).map_err(|why| invalid(&why))
    }

    fn identity(&self, claims: &Value) -> Result<Identity, String> {
        let s = &self.settings;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let id = text("sub").filter(|s| !s.is_empty() && s.len() <= 200).ok_or("bad sub claim")?;
        let role = match text(&s.role_claim) {
            Some(role) => role.parse::<Role>().map_err(|_| format!("unknown role '{role}'"))?,
            None => s.default_role,
        };
        let groups = match claims.get(&s.groups_claim) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Some(Value::String(list)) => list.split([',', ' ']).filter(|g| !g.is_empty()).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let tenant = text(&s.tenant_claim).unwrap_or_else(|| toolhub_domain::DEFAULT_TENANT.to_owned());
        if !toolhub_domain::principal::is_tenant_name(&tenant) {
            return Err("bad tenant claim".into());
        }
        Ok(Identity { id, tenant, role, groups, display_name: text(&s.name_claim), source: CredentialSource::Token })
    }
}

/// The header a super administrator uses to act in another tenant.
pub const TENANT_HEADER: &str = "x-tenant";

/// Authenticates the request's bearer token. Returns the principal (in the tenant it acts in)
/// and the caller its requests are counted against.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(Principal, RateCaller), ApiError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthenticated("a bearer token is required"))?;

    let principal = if token.starts_with(api_key::KEY_PREFIX) {
        state.services.auth.authenticate_key(token).await?
    } else {
        let verifier = state.jwt.as_ref().ok_or_else(|| ApiError::unauthenticated("invalid token"))?;
        let identity = verifier.verify(token)?;
        state.services.auth.resolve(identity).await?
    };
    let limit_key = RateCaller::Principal(format!("{}:{}", principal.tenant, principal.id));

    let principal = match headers.get(TENANT_HEADER) {
        None => principal,
        Some(tenant) => {
            let tenant = tenant
                .to_str()
                .map_err(|_| DomainError::invalid(TENANT_HEADER, "must be 1 to 100 visible characters"))?;
            principal.act_in(tenant)?
        }
    };
    Ok((principal, limit_key))
}

/// The authenticated caller of a handler (put in the request by the pipeline middleware).
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .map(Caller)
                .ok_or_else(|| ApiError::unauthenticated("a bearer token is required")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hs256_secrets_are_refused() {
        let settings = |secret: &str| JwtSettings { hs256_secret: Some(secret.into()), ..JwtSettings::default() };
        assert!(JwtVerifier::new(settings("short")).is_err());
        assert!(JwtVerifier::new(settings(&"x".repeat(HS256_SECRET_MIN))).unwrap().is_some());
    }
}
