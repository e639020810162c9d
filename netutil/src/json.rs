//! Reading typed fields out of a `serde_json::Value`, with errors that carry the field path.
//!
//! The producers of network-status and device-info are several Go programs of several ages; a
//! hand-walked `Value` lets every error say exactly which field of which entry is wrong, and lets
//! unknown fields pass (newer producers add fields).

use serde_json::{Map, Value};

use crate::error::{FieldError, Problem};

/// A JSON object together with its path in the document.
pub(crate) struct Fields<'a> {
    obj: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    /// `value` must be an object; `path` is how errors will name it.
    pub(crate) fn new(value: &'a Value, path: impl Into<String>) -> Result<Self, FieldError> {
        let path = path.into();
        match value {
            Value::Object(obj) => Ok(Self { obj, path }),
            _ => Err(FieldError::new(path, Problem::WrongType("an object"))),
        }
    }

    /// The path of `key` inside this object.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// An error about `key`.
    pub(crate) fn error(&self, key: &str, problem: Problem) -> FieldError {
        FieldError::new(self.path_of(key), problem)
    }

    /// A string field that may be absent (`null` counts as absent, as Go's omitempty readers do).
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(key, Problem::WrongType("a string"))),
        }
    }

    /// A string field that must be present and non-empty.
    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, FieldError> {
        match self.opt_str(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(self.error(key, Problem::MissingField)),
        }
    }

    /// A boolean field; absent means `false`, as with Go's omitempty.
    pub(crate) fn opt_bool(&self, key: &str) -> Result<bool, FieldError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.error(key, Problem::WrongType("true or false"))),
        }
    }

    /// A nested object that may be absent.
    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Fields<'a>>, FieldError> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Fields::new(v, self.path_of(key)).map(Some),
        }
    }

    /// A nested object that must be present.
    pub(crate) fn req_obj(&self, key: &str) -> Result<Fields<'a>, FieldError> {
        self.opt_obj(key)?
            .ok_or_else(|| self.error(key, Problem::MissingField))
    }

    /// A string field that must be one of `allowed` (pairs of accepted spelling and value).
    pub(crate) fn req_enum<T: Copy>(
        &self,
        key: &str,
        allowed: &[(&str, T)],
        expected: &'static str,
    ) -> Result<T, FieldError> {
        let value = self.req_str(key)?;
        allowed
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                self.error(
                    key,
                    Problem::UnknownValue {
                        value: value.to_owned(),
                        expected,
                    },
                )
            })
    }
}

/// Parses JSON text, mapping syntax errors to [`Problem::InvalidJson`].
pub(crate) fn parse(text: &str) -> Result<Value, FieldError> {
    serde_json::from_str(text).map_err(|e| FieldError::new("", Problem::InvalidJson(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_nest() {
        let v = json!({"a": {"b": 5}});
        let top = Fields::new(&v, "[2]").unwrap();
        let a = top.req_obj("a").unwrap();
        let err = a.req_str("b").unwrap_err();
        assert_eq!(err.field, "[2].a.b");
        assert_eq!(err.problem, Problem::WrongType("a string"));
        assert_eq!(a.req_str("c").unwrap_err().problem, Problem::MissingField);
    }

    #[test]
    fn empty_string_is_missing_and_null_is_absent() {
        let v = json!({"s": "", "n": null});
        let f = Fields::new(&v, "").unwrap();
        assert_eq!(f.req_str("s").unwrap_err().field, "s");
        assert_eq!(f.opt_str("n").unwrap(), None);
        assert!(!f.opt_bool("n").unwrap());
    }
}
