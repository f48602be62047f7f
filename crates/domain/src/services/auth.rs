//! Turning credentials into principals, and issuing API keys.

use std::sync::Arc;

use crate::{
    DomainError, Principal, Role,
    api_key::{self, ApiKey},
    error::DomainResult,
    new_id,
    ports::{ApiKeyRepository, Clock, UserRepository},
    principal::User,
    secret::Secret,
    validation::Validator,
};

/// Who a verified credential says the caller is (from an API key or JWT claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The subject: the user's id.
    pub id: String,
    /// The tenant it acts in.
    pub tenant: String,
    /// Its role, as the credential says.
    pub role: Role,
    /// Its groups, as the credential says.
    pub groups: Vec<String>,
    /// A name for people, when the credential gives one.
    pub display_name: Option<String>,
    /// Where the identity comes from, which decides whose word the role is.
    pub source: CredentialSource,
}

/// The kind of credential an identity was verified from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// An API key Toolhub issued: the role stored for the user decides (administrators change it).
    ApiKey,
    /// A token of the identity provider: its claims are the truth for what they carry (role and
    /// groups), so a demotion there applies at the next request.
    Token,
}

/// A key to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// The tenant of the key's principal.
    pub tenant: String,
    /// The principal the key authenticates.
    pub principal_id: String,
    /// The key's role (never above its issuer's).
    pub role: Role,
    /// A label to recognise it by.
    pub name: String,
    /// When it stops working.
    pub expires_at: Option<crate::Timestamp>,
}

/// Credentials to principals: API keys (issued, hashed, revoked) and the identities of verified
/// JWTs, with a 5 s cache of key lookups.
pub struct AuthService {
    keys: Arc<dyn ApiKeyRepository>,
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    /// Recently authenticated API keys (by hash), so most requests skip the database.
    recent: std::sync::Mutex<std::collections::HashMap<String, (crate::Timestamp, Principal)>>,
    /// Told when authentications must be forgotten, so that other replicas forget theirs.
    replicas: Arc<dyn crate::ports::ReplicaBus>,
}

/// How long an authenticated key is trusted without asking storage again: a revoked key, a
/// disabled user or a changed role takes at most this long to apply.
pub const AUTH_CACHE_SECS: i64 = 5;

/// Above this many cached keys the cache starts over.
const AUTH_CACHE_MAX: usize = 10_000;

/// `last_used_at` is written at most this often per key, to keep requests read-only.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The one message for every bad key, so a caller cannot probe which keys exist.
const INVALID_KEY: &str = "invalid or expired API key";

impl AuthService {
    /// The service over these repositories.
    pub fn new(keys: Arc<dyn ApiKeyRepository>, users: Arc<dyn UserRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { keys, users, clock, recent: Default::default(), replicas: Arc::new(crate::ports::SingleReplica) }
    }

    /// The same service, telling `replicas` when authentications must be forgotten.
    pub fn with_replicas(self, replicas: Arc<dyn crate::ports::ReplicaBus>) -> Self {
        Self { replicas, ..self }
    }

    /// Forgets cached authentications (after a change to users or keys), here and on the other
    /// replicas.
    pub fn forget_cached(&self) {
        self.forget_cached_here();
        self.replicas.publish(crate::ports::ReplicaEvent::Auth);
    }

    /// Forgets this replica's cached authentications (another replica changed users or keys).
    pub fn forget_cached_here(&self) {
        self.recent.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The principal of an API key (`th_...`), from the 5 s cache when recent.
    pub async fn authenticate_key(&self, key: &str) -> DomainResult<Principal> {
        let unauthenticated = || DomainError::Unauthenticated(INVALID_KEY.into());
        if !api_key::looks_like_key(key) {
            return Err(unauthenticated());
        }
        let hash = api_key::hash_key(key);
        let now = self.clock.now();
        if let Some((at, principal)) = self.recent.lock().unwrap_or_else(|p| p.into_inner()).get(&hash)
            && (now - *at).num_seconds() < AUTH_CACHE_SECS
        {
            return Ok(principal.clone());
        }
        let stored = self.keys.find_by_hash(&hash).await?.ok_or_else(unauthenticated)?;
        if !stored.is_usable(now) {
            return Err(unauthenticated());
        }
        if stored.last_used_at.is_none_or(|at| (now - at).num_seconds() >= TOUCH_INTERVAL_SECS) {
            self.keys.touch(&stored.id, now).await?;
        }
        let principal = self
            .resolve(Identity {
                id: stored.principal_id,
                tenant: stored.tenant,
                role: stored.role,
                groups: Vec::new(),
                display_name: None,
                source: CredentialSource::ApiKey,
            })
            .await?;
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= AUTH_CACHE_MAX {
            recent.clear();
        }
        recent.insert(hash, (now, principal.clone()));
        Ok(principal)
    }

    /// Records a first-seen user and refuses disabled ones. For API keys the stored role decides
    /// (an administrator changes it through the users API); for tokens the token's role does.
    /// Groups are the credential's plus those an administrator gave the user (stored apart:
    /// a token's groups are never stored, so removing them at the identity provider applies).
    pub async fn resolve(&self, identity: Identity) -> DomainResult<Principal> {
        let now = self.clock.now();
        let user = match self.users.get(&identity.tenant, &identity.id).await? {
            Some(user) => user,
            None => {
                self.users
                    .insert_if_absent(&User {
                        display_name: identity.display_name.clone(),
                        ..User::new(&identity.tenant, &identity.id, identity.role, now)
                    })
                    .await?
            }
        };
        if user.disabled {
            return Err(DomainError::Unauthenticated("this account is disabled".into()));
        }
        let mut groups = identity.groups;
        for group in user.groups {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        let role = match identity.source {
            CredentialSource::ApiKey => user.role,
            CredentialSource::Token => identity.role,
        };
        Ok(Principal { id: identity.id, tenant: identity.tenant, role, groups })
    }

    /// Issues a key; the returned secret is the only time the key exists in clear.
    pub async fn create_key(&self, request: NewApiKey) -> DomainResult<(ApiKey, Secret)> {
        let mut v = Validator::new();
        v.text("tenant", &request.tenant, 1, crate::principal::limits::TENANT_MAX);
        v.text("principal_id", &request.principal_id, 1, api_key::limits::PRINCIPAL_MAX);
        v.text("name", &request.name, 1, api_key::limits::NAME_MAX);
        v.finish()?;
        let secret = api_key::generate_key();
        let key = ApiKey {
            id: new_id(),
            tenant: request.tenant,
            principal_id: request.principal_id,
            role: request.role,
            name: request.name,
            key_hash: api_key::hash_key(secret.expose()),
            key_prefix: secret.expose()[..10].to_string(),
            expires_at: request.expires_at,
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.keys.insert(&key).await?;
        // The key's role becomes its principal's role: issuing keys is an operator's act.
        let now = self.clock.now();
        let user = User::new(&key.tenant, &key.principal_id, key.role, now);
        let mut stored = self.users.insert_if_absent(&user).await?;
        if stored.role != key.role {
            stored.role = key.role;
            stored.updated_at = now;
            self.users.update(&stored).await?;
        }
        Ok((key, secret))
    }

    /// Issues a key for a principal of the actor's tenant (administrators; never a role above
    /// the actor's own). An `expires_at` in the past issues a key that is refused from the
    /// start, as a grant that has expired is: the answer shows it.
    pub async fn issue_key(
        &self,
        actor: &Principal,
        principal_id: String,
        role: Role,
        name: String,
        expires_at: Option<crate::Timestamp>,
    ) -> DomainResult<(ApiKey, Secret)> {
        actor.require_admin("issue API keys")?;
        if role > actor.role {
            return Err(DomainError::Forbidden(format!("a {} cannot issue {role} keys", actor.role)));
        }
        let request = NewApiKey { tenant: actor.tenant.clone(), principal_id, role, name, expires_at };
        self.create_key(request).await
    }

    /// The tenant's keys for administrators; a user's own keys otherwise. Never their secrets.
    pub async fn list_keys(&self, actor: &Principal) -> DomainResult<Vec<ApiKey>> {
        let keys = self.keys.list(&actor.tenant).await?;
        Ok(keys.into_iter().filter(|k| actor.is_admin() || k.principal_id == actor.id).collect())
    }

    /// Revokes a key: its owner or an administrator may. The tenant's last usable key of an
    /// administrator stays (revoking it would lock the tenant out): make another first.
    pub async fn revoke_key(&self, actor: &Principal, id: &str) -> DomainResult<ApiKey> {
        let now = self.clock.now();
        let keys = self.keys.list(&actor.tenant).await?;
        let key = keys
            .iter()
            .find(|k| k.id == id && (actor.is_admin() || k.principal_id == actor.id))
            .cloned()
            .ok_or_else(|| DomainError::not_found(crate::ResourceKind::ApiKey, id))?;
        let admin_key = |k: &ApiKey| k.role.is_admin() && k.is_usable(now);
        if admin_key(&key) && !keys.iter().any(|k| k.id != key.id && admin_key(k)) {
            return Err(DomainError::Conflict(
                "this is the tenant's last administrator key; issue another one first".into(),
            ));
        }
        if !self.keys.revoke(&actor.tenant, id, now).await? {
            return Err(DomainError::not_found(crate::ResourceKind::ApiKey, id));
        }
        // Authentications are cached: the revoked key stops working now, on this replica.
        self.forget_cached();
        Ok(ApiKey { revoked_at: Some(now), ..key })
    }

    /// Replaces a key with a new one of the same principal, role, name and expiry, revoking the
    /// old one; the new secret is shown only now.
    pub async fn rotate_key(&self, actor: &Principal, id: &str) -> DomainResult<(ApiKey, Secret)> {
        let old = self
            .list_keys(actor)
            .await?
            .into_iter()
            .find(|k| k.id == id && k.revoked_at.is_none())
            .ok_or_else(|| DomainError::not_found(crate::ResourceKind::ApiKey, id))?;
        let request = NewApiKey {
            tenant: old.tenant.clone(),
            principal_id: old.principal_id.clone(),
            role: old.role,
            name: old.name.clone(),
            expires_at: old.expires_at,
        };
        let issued = self.create_key(request).await?;
        self.keys.revoke(&actor.tenant, id, self.clock.now()).await?;
        self.forget_cached();
        Ok(issued)
    }

    /// On a database without any key, issues the first key: the operator's, a super administrator
    /// of the default tenant (the one who may run commands on the host, read every tenant's
    /// metrics and create tenant administrators).
    pub async fn bootstrap_admin_key(&self) -> DomainResult<Option<Secret>> {
        if self.keys.count().await? > 0 {
            return Ok(None);
        }
        let (_, secret) = self
            .create_key(NewApiKey {
                tenant: crate::DEFAULT_TENANT.into(),
                principal_id: "admin".into(),
                role: Role::SuperAdmin,
                name: "bootstrap admin key".into(),
                expires_at: None,
            })
            .await?;
        Ok(Some(secret))
    }
}
