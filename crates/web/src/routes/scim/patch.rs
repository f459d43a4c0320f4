//! PATCH (RFC 7644 §3.5.2) on a resource's JSON: `add`, `replace` and `remove`, with or without a
//! path. Paths are an attribute (`title`), a sub-attribute (`name.givenName`), an extension or one of
//! its attributes (`urn:…:enterprise:2.0:User:department`), or a multi-valued attribute narrowed by a
//! filter on one sub-attribute (`members[value eq "…"]`, `emails[type eq "work"].value`). The result is
//! read again as a whole resource, so a PATCH is checked exactly as a PUT is.

use super::{Fail, get_ci};
use serde_json::{Map, Value};

/// The most operations one PATCH holds.
const MAX_OPERATIONS: usize = 100;
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A parsed path.
#[derive(Debug, PartialEq)]
struct Path {
    /// The extension it is in, if any.
    extension: Option<String>,
    /// The attribute (none: the whole extension).
    attribute: Option<String>,
    /// `[sub eq "value"]`.
    filter: Option<(String, String)>,
    /// `.sub`.
    sub: Option<String>,
}

fn parse_path(path: &str, extensions: &[String]) -> Result<Path, Fail> {
    let bad = || Fail::bad("invalidPath", format!("`{path}` is not a path this server understands"));
    let mut rest = path.trim();
    let mut extension = None;
    let lower = rest.to_ascii_lowercase();
    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:";
    if let Some(ext) = extensions.iter().find(|e| lower.starts_with(&e.to_ascii_lowercase())) {
        let tail = rest.get(ext.len()..).ok_or_else(bad)?;
        if tail.is_empty() {
            return Ok(Path { extension: Some(ext.clone()), attribute: None, filter: None, sub: None });
        }
        rest = tail.strip_prefix(':').ok_or_else(bad)?;
        extension = Some(ext.clone());
    } else if lower.starts_with(CORE) {
        // `urn:…:core:2.0:User:userName`: the resource's own schema.
        rest = rest.get(CORE.len()..).and_then(|t| t.split_once(':')).map(|(_, a)| a).ok_or_else(bad)?;
    } else if lower.starts_with("urn:") {
        return Err(bad());
    }
    let (head, filter, sub) = match rest.split_once('[') {
        Some((head, tail)) => {
            let (inside, after) = tail.split_once(']').ok_or_else(bad)?;
            let mut words = inside.splitn(3, ' ');
            let (attr, op, value) = (words.next(), words.next(), words.next());
            let (Some(attr), Some(op), Some(value)) = (attr, op, value) else { return Err(bad()) };
            let value = value.trim().strip_prefix('"').and_then(|v| v.strip_suffix('"')).ok_or_else(bad)?;
            if !op.eq_ignore_ascii_case("eq") || value.contains('"') {
                return Err(bad());
            }
            let sub = match after {
                "" => None,
                s => Some(s.strip_prefix('.').ok_or_else(bad)?.to_owned()),
            };
            (head, Some((attr.to_owned(), value.to_owned())), sub)
        }
        None => match rest.split_once('.') {
            Some((head, sub)) => (head, None, Some(sub.to_owned())),
            None => (rest, None, None),
        },
    };
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '$' || c == '_');
    if !plain(head) || sub.as_deref().is_some_and(|s| !plain(s)) || filter.as_ref().is_some_and(|(a, _)| !plain(a)) {
        return Err(bad());
    }
    Ok(Path { extension, attribute: Some(head.to_owned()), filter, sub })
}

/// The key of `map` that names `attribute` (attribute names are case-insensitive), or `attribute`.
fn key_of(map: &Map<String, Value>, attribute: &str) -> String {
    map.keys().find(|k| k.eq_ignore_ascii_case(attribute)).cloned().unwrap_or_else(|| attribute.to_owned())
}

fn element_matches(item: &Value, (attr, value): &(String, String)) -> bool {
    item.as_object().and_then(|o| get_ci(o, attr)).is_some_and(|v| match v {
        Value::String(s) => s.eq_ignore_ascii_case(value),
        other => other.to_string().as_str() == value.as_str(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies `value` (or a removal) at `path` in `doc`.
fn apply_at(doc: &mut Map<String, Value>, path: &Path, op: Op, value: Option<Value>) -> Result<(), Fail> {
    let container: &mut Map<String, Value> = match &path.extension {
        Some(ext) => {
            let key = key_of(doc, ext);
            let Some(attribute) = &path.attribute else {
                return whole(doc, &key, op, value);
            };
            let _ = attribute;
            let entry = doc.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            entry.as_object_mut().ok_or_else(|| Fail::bad("invalidPath", "not an object"))?
        }
        None => doc,
    };
    let attribute = path.attribute.as_deref().unwrap_or_default();
    let key = key_of(container, attribute);
    if let Some(filter) = &path.filter {
        let Some(Value::Array(items)) = container.get_mut(&key) else {
            return match op {
                Op::Remove => Ok(()),
                _ => Err(Fail::bad("noTarget", format!("no {attribute} matches the filter"))),
            };
        };
        match (&path.sub, op) {
            (None, Op::Remove) => items.retain(|i| !element_matches(i, filter)),
            (None, _) => {
                let value = value.ok_or_else(|| Fail::bad("invalidValue", "the operation needs a value"))?;
                for item in items.iter_mut().filter(|i| element_matches(i, filter)) {
                    merge(item, &value, op);
                }
            }
            (Some(_), Op::Replace) if !items.iter().any(|i| element_matches(i, filter)) => {
                // RFC 7644 §3.5.2.3: a replace whose filter matches no value fails.
                return Err(Fail::bad("noTarget", format!("no {attribute} matches the filter")));
            }
            (Some(sub), op) => {
                for item in items.iter_mut().filter(|i| element_matches(i, filter)) {
                    if let Some(obj) = item.as_object_mut() {
                        let k = key_of(obj, sub);
                        match (op, &value) {
                            (Op::Remove, _) => {
                                obj.remove(&k);
                            }
                            (_, Some(v)) => {
                                obj.insert(k, v.clone());
                            }
                            (_, None) => return Err(Fail::bad("invalidValue", "the operation needs a value")),
                        }
                    }
                }
            }
        }
        return Ok(());
    }
    if let Some(sub) = &path.sub {
        if op == Op::Remove {
            if let Some(obj) = container.get_mut(&key).and_then(Value::as_object_mut) {
                let k = key_of(obj, sub);
                obj.remove(&k);
            }
            return Ok(());
        }
        let value = value.ok_or_else(|| Fail::bad("invalidValue", "the operation needs a value"))?;
        let entry = container.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Some(obj) = entry.as_object_mut() {
            let k = key_of(obj, sub);
            obj.insert(k, value);
        }
        return Ok(());
    }
    whole(container, &key, op, value)
}

/// `op` on the whole attribute `key` of `map`.
fn whole(map: &mut Map<String, Value>, key: &str, op: Op, value: Option<Value>) -> Result<(), Fail> {
    match op {
        Op::Remove => {
            map.remove(key);
        }
        Op::Add | Op::Replace => {
            let value = value.ok_or_else(|| Fail::bad("invalidValue", "the operation needs a value"))?;
            match (op, map.get_mut(key)) {
                // `add` to a multi-valued attribute adds values (once each).
                (Op::Add, Some(Value::Array(items))) => {
                    let new = match value {
                        Value::Array(v) => v,
                        other => vec![other],
                    };
                    for v in new {
                        if !items.contains(&v) {
                            items.push(v);
                        }
                    }
                }
                (Op::Add, Some(existing @ Value::Object(_))) if value.is_object() => merge(existing, &value, op),
                _ => {
                    map.insert(key.to_owned(), value);
                }
            }
        }
    }
    Ok(())
}

/// Merges object `value` into `target` (add), or sets `target` (replace of a non-object).
fn merge(target: &mut Value, value: &Value, op: Op) {
    match (target.as_object_mut(), value.as_object()) {
        (Some(t), Some(v)) => {
            for (k, v) in v {
                let key = key_of(t, k);
                t.insert(key, v.clone());
            }
        }
        _ if op != Op::Remove => *target = value.clone(),
        _ => {}
    }
}

/// Applies the PATCH request `body` to `doc` (the resource as GET shows it).
pub(crate) fn apply(mut doc: Value, body: &Value) -> Result<Value, Fail> {
    let obj = body.as_object().ok_or_else(|| Fail::bad("invalidSyntax", "a PATCH body is a JSON object"))?;
    let schemas = get_ci(obj, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|v| v.as_str() == Some(PATCH_SCHEMA))) {
        return Err(Fail::bad("invalidSyntax", format!("a PATCH body names the schema {PATCH_SCHEMA}")));
    }
    let operations = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| Fail::bad("invalidSyntax", "a PATCH body has a list of Operations"))?;
    if operations.is_empty() || operations.len() > MAX_OPERATIONS {
        return Err(Fail::bad("invalidSyntax", format!("a PATCH has 1 to {MAX_OPERATIONS} operations")));
    }
    let extensions: Vec<String> = doc
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .chain([super::users::ENTERPRISE.to_owned()])
        .filter(|s| s.contains(":extension:"))
        .collect();
    let target = doc.as_object_mut().ok_or_else(|| Fail::bad("invalidSyntax", "not an object"))?;
    for operation in operations {
        let operation =
            operation.as_object().ok_or_else(|| Fail::bad("invalidSyntax", "each operation is a JSON object"))?;
        let op = match get_ci(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => return Err(Fail::bad("invalidSyntax", "op is add, replace or remove")),
        };
        let value = get_ci(operation, "value").cloned();
        match get_ci(operation, "path") {
            None | Some(Value::Null) => {
                if op == Op::Remove {
                    return Err(Fail::bad("noTarget", "remove needs a path"));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(Fail::bad("invalidValue", "without a path, the value is an object of attributes"));
                };
                for (name, v) in values {
                    let path = parse_path(&name, &extensions)?;
                    apply_at(target, &path, op, Some(v))?;
                }
            }
            Some(Value::String(p)) => {
                let path = parse_path(p, &extensions)?;
                apply_at(target, &path, op, value)?;
            }
            Some(_) => return Err(Fail::bad("invalidPath", "path must be a string")),
        }
    }
    // What no operation may change.
    if let Some(map) = doc.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(ops: Value) -> Value {
        json!({ "schemas": [PATCH_SCHEMA], "Operations": ops })
    }

    fn user() -> Value {
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "title": "x",
                "emails": [{ "value": "a@example.com", "primary": true }] })
    }

    #[test]
    fn add_replace_and_remove_change_what_they_name() {
        let ext = super::super::users::ENTERPRISE;
        let out = apply(
            user(),
            &patch(json!([
                { "op": "replace", "path": "title", "value": "y" },
                { "op": "add", "path": format!("{ext}:department"), "value": "Sales" },
                { "op": "add", "path": "emails", "value": [{ "value": "b@example.com" }] },
                { "op": "Replace", "value": { "displayName": "Ann", "active": false } },
            ])),
        )
        .unwrap();
        assert_eq!(out["title"], "y");
        assert_eq!(out[ext]["department"], "Sales");
        assert_eq!(out["emails"].as_array().unwrap().len(), 2);
        assert_eq!((out["displayName"].clone(), out["active"].clone()), (json!("Ann"), json!(false)));
        let out = apply(
            out,
            &patch(json!([{ "op": "remove", "path": "emails[value eq \"b@example.com\"]" },
                                           { "op": "remove", "path": ext }])),
        )
        .unwrap();
        assert_eq!(out["emails"].as_array().unwrap().len(), 1);
        assert!(out.get(ext).is_none());
    }

    #[test]
    fn bad_patches_are_scim_errors() {
        for body in [
            json!({ "Operations": [] }),
            patch(json!([])),
            patch(json!([{ "op": "move", "path": "title" }])),
            patch(json!([{ "op": "remove" }])),
            patch(json!([{ "op": "add", "path": "a[b", "value": 1 }])),
            patch(json!([{ "op": "add", "path": "urn:x:y", "value": 1 }])),
            patch(json!([{ "op": "add", "value": 3 }])),
            patch(json!([{ "op": "replace", "path": "emails[value eq \"no@example.com\"].primary", "value": true }])),
        ] {
            assert!(apply(user(), &body).is_err(), "{body}");
        }
    }
}
