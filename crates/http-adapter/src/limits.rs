//! The limits (and numeric defaults) of request fields as the OpenAPI document states them, taken from the domain's
//! limits modules (the one place they are written) and written into the generated schemas:
//! utoipa's attributes take only literals, so the numbers are not repeated in the DTOs.

use toolhub_domain::{
    access::limits as access, api_key::limits as keys, principal::limits as users, server::limits as servers,
    toolkit::limits as toolkits, validation::MAX_URL_LEN,
};
use utoipa::{
    Number,
    openapi::{
        OpenApi, RefOr,
        schema::{AdditionalProperties, ArrayItems, Schema},
    },
};

/// What a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A string of `min` to `max` characters.
    Text { min: usize, max: usize },
    /// An integer from `min` to `max`.
    Range { min: i64, max: i64 },
    /// A list of `min` to `max` items.
    Items { min: usize, max: usize },
    /// An identifier: 1 to `max` characters, none of them a control character.
    Identifier { max: usize },
    /// A list of texts (the domain's text check) of `min` to `max` characters.
    ItemText { min: usize, max: usize },
    /// A list of strings of at most `max` characters without NUL.
    ItemLength { max: usize },
    /// A list whose integers are `min` to `max`.
    ItemRange { min: i64, max: i64 },
    /// A map of at most `entries` entries whose values have at most `value_max` characters.
    Map { entries: usize, value_max: usize },
    /// A string of 1 to `max` characters matching a regular expression.
    Pattern { pattern: &'static str, max: usize },
    /// Not a limit: the value taken when the field is absent.
    DefaultValue(i64),
}

impl Limit {
    fn write(self, property: &mut Schema) {
        match (self, property) {
            (Self::Text { min, max }, Schema::Object(p)) => {
                p.min_length = (min > 0).then_some(min);
                p.max_length = Some(max);
                p.pattern = Some(text_pattern(min > 0).to_owned());
            }
            (Self::Identifier { max }, Schema::Object(p)) => {
                p.min_length = Some(1);
                p.max_length = Some(max);
                p.pattern = Some(format!("^{NO_CONTROL}+$"));
            }
            (Self::Pattern { pattern, max }, Schema::Object(p)) => {
                p.min_length = Some(1);
                p.max_length = Some(max);
                p.pattern = Some(pattern.to_owned());
            }
            (Self::Range { min, max }, Schema::Object(p)) => {
                p.minimum = Some(Number::Int(min as isize));
                p.maximum = Some(Number::Int(max as isize));
            }
            (Self::DefaultValue(value), Schema::Object(p)) => p.default = Some(value.into()),
            (Self::Items { min, max }, Schema::Array(p)) => {
                p.min_items = (min > 0).then_some(min);
                p.max_items = Some(max);
            }
            (Self::ItemText { min, max }, Schema::Array(p)) => {
                if let ArrayItems::RefOrSchema(items) = &mut p.items
                    && let RefOr::T(Schema::Object(items)) = items.as_mut()
                {
                    items.min_length = (min > 0).then_some(min);
                    items.max_length = Some(max);
                    items.pattern = Some(text_pattern(min > 0).to_owned());
                }
            }
            (Self::ItemLength { max }, Schema::Array(p)) => {
                if let ArrayItems::RefOrSchema(items) = &mut p.items
                    && let RefOr::T(Schema::Object(items)) = items.as_mut()
                {
                    items.max_length = Some(max);
                    items.pattern = Some("^[^\\u0000]*$".to_owned());
                }
            }
            (Self::ItemRange { min, max }, Schema::Array(p)) => {
                if let ArrayItems::RefOrSchema(items) = &mut p.items
                    && let RefOr::T(Schema::Object(items)) = items.as_mut()
                {
                    items.minimum = Some(Number::Int(min as isize));
                    items.maximum = Some(Number::Int(max as isize));
                }
            }
            (Self::Map { entries, value_max }, Schema::Object(p)) => {
                p.max_properties = Some(entries);
                if let Some(values) = p.additional_properties.as_deref_mut()
                    && let AdditionalProperties::RefOr(RefOr::T(Schema::Object(values))) = values
                {
                    // One line: header and environment values hold no line breaks or NUL.
                    values.max_length = Some(value_max);
                    values.pattern = Some("^[^\\r\\n\\u0000]*$".to_owned());
                }
            }
            (limit, _) => panic!("{limit:?} does not fit the schema it is applied to"),
        }
    }
}

/// A character that is not a control character (Unicode Cc, as Rust's `char::is_control`).
pub const NO_CONTROL: &str = "[^\\u0000-\\u001f\\u007f-\\u009f]";

/// What the domain's text check accepts: no control characters but newline and tab, and
/// (when the text is required) not only white space.
pub(crate) fn text_pattern(required: bool) -> &'static str {
    if required {
        "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$"
    } else {
        "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$"
    }
}

use Limit::*;

const NAME: Limit = Text { min: 1, max: servers::NAME_MAX };
const DISPLAY_NAME: Limit = Text { min: 1, max: servers::DISPLAY_NAME_MAX };
const DESCRIPTION: Limit = Text { min: 0, max: servers::DESCRIPTION_MAX };
const URL: Limit = Text { min: 1, max: MAX_URL_LEN };
const TIMEOUT: Limit = Range { min: servers::TIMEOUT_MIN, max: servers::TIMEOUT_MAX };
const MAX_FAILURES: Limit = Range { min: servers::MAX_FAILURES_MIN, max: servers::MAX_FAILURES_MAX };
const COMMAND: Limit = Text { min: 1, max: servers::COMMAND_MAX };
const ARGS: Limit = Items { min: 0, max: servers::ARGS_MAX };
const ARG: Limit = ItemLength { max: servers::ARG_MAX };
const MAP: Limit = Map { entries: servers::MAP_ENTRIES_MAX, value_max: servers::MAP_VALUE_MAX };
const CATEGORY: Limit = Text { min: 1, max: servers::CATEGORY_MAX };
const TAGS: Limit = Items { min: 0, max: servers::TAGS_MAX };
const TAG: Limit = ItemText { min: 1, max: servers::TAG_MAX };
const OAUTH_FIELD: Limit = Text { min: 1, max: servers::OAUTH_FIELD_MAX };
const RATE_LIMIT: Limit = Range { min: access::RATE_LIMIT_MIN as i64, max: access::RATE_LIMIT_MAX as i64 };
const HOURS: Limit = ItemRange { min: 0, max: access::HOUR_MAX as i64 };
const DAYS: Limit = ItemRange { min: 0, max: access::DAY_MAX as i64 };
const PATTERN: Limit = Text { min: 1, max: access::PATTERN_MAX };
const SUBJECT_ID: Limit = Identifier { max: access::SUBJECT_ID_MAX };
const SLUG: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
const TOOLKIT_NAME: Limit = Pattern { pattern: SLUG, max: toolkits::NAME_MAX };
const TOOLKIT_TOOL_NAME: Limit = Pattern { pattern: "^[A-Za-z0-9_.-]+$", max: toolkits::TOOL_NAME_MAX };
const TOOLKIT_DISPLAY_NAME: Limit = Text { min: 1, max: toolkits::DISPLAY_NAME_MAX };
const TOOLKIT_DESCRIPTION: Limit = Text { min: 0, max: toolkits::DESCRIPTION_MAX };
const OWNER: Limit = Text { min: 1, max: access::SUBJECT_ID_MAX };
const SORT_ORDER: Limit = Range { min: -toolkits::SORT_ORDER_MAX, max: toolkits::SORT_ORDER_MAX };

/// Every limited field of a request body: (schema, property, limit).
pub const LIMITS: &[(&str, &str, Limit)] = &[
    ("OAuthConfigSchema", "client_id", OAUTH_FIELD),
    ("OAuthConfigSchema", "client_secret", OAUTH_FIELD),
    ("OAuthConfigSchema", "token_url", URL),
    ("OAuthConfigSchema", "scope", Text { min: 0, max: servers::OAUTH_FIELD_MAX }),
    ("ToolServerCreate", "name", NAME),
    ("ToolServerCreate", "display_name", DISPLAY_NAME),
    ("ToolServerCreate", "description", DESCRIPTION),
    ("ToolServerCreate", "base_url", URL),
    ("ToolServerCreate", "timeout", TIMEOUT),
    ("ToolServerCreate", "timeout", DefaultValue(servers::TIMEOUT_DEFAULT as i64)),
    ("ToolServerCreate", "max_failures", MAX_FAILURES),
    ("ToolServerCreate", "max_failures", DefaultValue(servers::MAX_FAILURES_DEFAULT as i64)),
    ("ToolServerCreate", "command", COMMAND),
    ("ToolServerCreate", "args", ARGS),
    ("ToolServerCreate", "args", ARG),
    ("ToolServerCreate", "headers", MAP),
    ("ToolServerCreate", "env", MAP),
    ("ToolServerCreate", "category", CATEGORY),
    ("ToolServerCreate", "tags", TAGS),
    ("ToolServerCreate", "tags", TAG),
    ("ToolServerCreate", "openapi_spec", Text { min: 1, max: servers::SPEC_MAX }),
    ("ToolServerUpdate", "display_name", DISPLAY_NAME),
    ("ToolServerUpdate", "description", DESCRIPTION),
    ("ToolServerUpdate", "base_url", URL),
    ("ToolServerUpdate", "timeout", TIMEOUT),
    ("ToolServerUpdate", "max_failures", MAX_FAILURES),
    ("ToolServerUpdate", "command", COMMAND),
    ("ToolServerUpdate", "args", ARGS),
    ("ToolServerUpdate", "args", ARG),
    ("ToolServerUpdate", "headers", MAP),
    ("ToolServerUpdate", "env", MAP),
    ("ToolServerUpdate", "category", CATEGORY),
    ("ToolServerUpdate", "tags", TAGS),
    ("ToolServerUpdate", "tags", TAG),
    ("ToolServerUpdate", "openapi_spec", Text { min: 1, max: servers::SPEC_MAX }),
    ("BulkToolServerOperation", "server_ids", Items { min: 1, max: servers::BULK_MAX }),
    ("ToolPermissionCreate", "user_id", SUBJECT_ID),
    ("ToolPermissionCreate", "rate_limit_per_hour", RATE_LIMIT),
    ("ToolPermissionCreate", "rate_limit_per_day", RATE_LIMIT),
    ("ToolPermissionCreate", "allowed_hours", HOURS),
    ("ToolPermissionCreate", "allowed_hours", Items { min: 0, max: access::HOURS_MAX_ITEMS }),
    ("ToolPermissionCreate", "allowed_days", DAYS),
    ("ToolPermissionCreate", "allowed_days", Items { min: 0, max: access::DAYS_MAX_ITEMS }),
    ("GrantCreate", "rate_limit_per_hour", RATE_LIMIT),
    ("GrantCreate", "rate_limit_per_day", RATE_LIMIT),
    ("GrantCreate", "allowed_hours", HOURS),
    ("GrantCreate", "allowed_hours", Items { min: 0, max: access::HOURS_MAX_ITEMS }),
    ("GrantCreate", "allowed_days", DAYS),
    ("GrantCreate", "allowed_days", Items { min: 0, max: access::DAYS_MAX_ITEMS }),
    ("ToolPermissionUpdate", "rate_limit_per_hour", RATE_LIMIT),
    ("ToolPermissionUpdate", "rate_limit_per_day", RATE_LIMIT),
    ("ToolPermissionUpdate", "allowed_hours", HOURS),
    ("ToolPermissionUpdate", "allowed_hours", Items { min: 0, max: access::HOURS_MAX_ITEMS }),
    ("ToolPermissionUpdate", "allowed_days", DAYS),
    ("ToolPermissionUpdate", "allowed_days", Items { min: 0, max: access::DAYS_MAX_ITEMS }),
    ("RoleToolAccessCreate", "tool_pattern", PATTERN),
    ("RoleToolAccessCreate", "server_pattern", PATTERN),
    ("RoleToolAccessCreate", "default_rate_limit_per_hour", RATE_LIMIT),
    ("RoleToolAccessCreate", "default_rate_limit_per_day", RATE_LIMIT),
    ("RoleToolAccessCreate", "allowed_hours", HOURS),
    ("RoleToolAccessCreate", "allowed_hours", Items { min: 0, max: access::HOURS_MAX_ITEMS }),
    ("RoleToolAccessCreate", "allowed_days", DAYS),
    ("RoleToolAccessCreate", "allowed_days", Items { min: 0, max: access::DAYS_MAX_ITEMS }),
    ("UserUpdate", "groups", Items { min: 0, max: users::GROUPS_MAX }),
    ("UserUpdate", "groups", ItemText { min: 1, max: users::GROUP_MAX }),
    ("UserUpdate", "display_name", Text { min: 1, max: users::DISPLAY_NAME_MAX }),
    ("ApiKeyCreate", "principal_id", Text { min: 1, max: keys::PRINCIPAL_MAX }),
    ("ApiKeyCreate", "name", Text { min: 1, max: keys::NAME_MAX }),
    ("ToolkitCreate", "name", TOOLKIT_NAME),
    ("ToolkitCreate", "display_name", TOOLKIT_DISPLAY_NAME),
    ("ToolkitCreate", "description", TOOLKIT_DESCRIPTION),
    ("ToolkitCreate", "owner_id", OWNER),
    ("ToolkitUpdate", "display_name", TOOLKIT_DISPLAY_NAME),
    ("ToolkitUpdate", "description", TOOLKIT_DESCRIPTION),
    ("ToolkitUpdate", "owner_id", OWNER),
    ("ToolkitToolAdd", "name", TOOLKIT_TOOL_NAME),
    ("ToolkitToolAdd", "description", TOOLKIT_DESCRIPTION),
    ("ToolkitToolAdd", "sort_order", SORT_ORDER),
    ("InfToolInput", "name", TOOLKIT_TOOL_NAME),
    ("InfToolInput", "description", TOOLKIT_DESCRIPTION),
    ("InfToolInput", "type", Pattern { pattern: SLUG, max: toolkits::TYPE_MAX }),
    ("InfToolInput", "sortOrder", SORT_ORDER),
    ("InfDiscoveredTool", "name", TOOLKIT_TOOL_NAME),
    ("InfDiscoveredTool", "description", TOOLKIT_DESCRIPTION),
    ("InfSync", "tools", Items { min: 0, max: toolkits::TOOLS_MAX }),
    ("InfSync", "discoveredBy", Text { min: 1, max: toolkits::DISCOVERED_BY_MAX }),
    ("EmporixToolInput", "name", DISPLAY_NAME),
    ("EmporixToolConfig", "url", URL),
    ("EmporixToolConfig", "command", COMMAND),
    ("EmporixToolConfig", "args", ARGS),
    ("EmporixToolConfig", "args", ARG),
    ("EmporixToolConfig", "env", MAP),
    ("EmporixToolConfig", "headers", MAP),
    ("EmporixToolConfig", "description", DESCRIPTION),
    ("EmporixToolConfig", "timeout", TIMEOUT),
    ("EmporixToolConfig", "category", CATEGORY),
    ("EmporixToolConfig", "tags", TAGS),
    ("EmporixToolConfig", "tags", TAG),
    ("EmporixToolConfig", "openapiSpec", Text { min: 1, max: servers::SPEC_MAX }),
];

/// Request fields left without a limit of their own, and why: each is bounded by the body
/// limit (1 MiB) and names or carries something checked elsewhere.
pub const UNLIMITED: &[(&str, &str, &str)] = &[
    ("ToolServerCreate", "secret_headers", "names of headers; only those present in headers matter"),
    ("ToolServerCreate", "secret_env", "names of variables; only those present in env matter"),
    ("ToolServerUpdate", "secret_headers", "names of headers; only those present in headers matter"),
    ("ToolServerUpdate", "secret_env", "names of variables; only those present in env matter"),
    ("BulkToolServerOperation", "server_ids", "ids: an unknown one fails its own item"),
    ("ToolPermissionCreate", "tool_id", "an id: an unknown one is a 404"),
    ("ToolPermissionCreate", "server_id", "an id: an unknown one is a 404"),
    ("GrantCreate", "subject", "parsed by the domain, whose id part is limited (SUBJECT_ID_MAX)"),
    ("GrantCreate", "tool_id", "an id: an unknown one is a 404"),
    ("GrantCreate", "server_id", "an id: an unknown one is a 404"),
    ("GrantCreate", "toolkit_id", "an id: an unknown one is a 404"),
    ("ToolServerCreate", "function_name_filter_list", "text or a list, limited in spec_rules.rs"),
    ("ToolServerUpdate", "function_name_filter_list", "text or a list, limited in spec_rules.rs"),
    ("ToolkitCreate", "server_id", "an id: an unknown one is a 404"),
    ("ToolkitUpdate", "server_id", "an id: an unknown one is a 404"),
    ("ToolkitToolAdd", "tool_id", "an id: an unknown one is a 404"),
    ("InfToolInput", "config", "JSON text or an object, at most 64 KiB as JSON (checked by the domain)"),
    ("InfToolInput", "parameters", "a JSON Schema object, at most 64 KiB as JSON (checked by the domain)"),
    ("InfDiscoveredTool", "inputSchema", "a JSON Schema object, at most 64 KiB as JSON (checked by the domain)"),
    ("UserToolAccessCheck", "user_id", "an id: an unknown user is not allowed"),
    ("UserToolAccessCheck", "tool_name", "a name: an unknown one is a 404"),
    ("UserToolAccessCheck", "server_name", "a name: an unknown one is a 404"),
    ("NamedToolCallRequest", "server_name", "a name: an unknown one is a 404"),
    ("NamedToolCallRequest", "tool_name", "a name: an unknown one is a 404"),
    ("NamedToolCallRequest", "arguments", "checked against the tool's input schema"),
    ("ToolCallRequest", "arguments", "checked against the tool's input schema"),
    ("ChatAiCall", "name", "a name: an unknown one is a 404"),
    ("EmporixToolInput", "id", "ignored: the path names the tool"),
    ("EmporixToolConfig", "secretEnv", "names of variables; only those present in env matter"),
    ("EmporixToolConfig", "secretHeaders", "names of headers; only those present in headers matter"),
    ("ChatAiCall", "args", "checked against the tool's input schema"),
];

/// Writes [`LIMITS`] into the document's schemas.
pub fn apply(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else { return };
    for (schema, property, limit) in LIMITS {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema)
            && let Some(RefOr::T(p)) = object.properties.get_mut(*property)
        {
            limit.write(p);
        }
    }
}
