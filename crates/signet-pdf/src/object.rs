//! The PDF object model: what a parsed object looks like in memory.
//!
//! Plain owned data with no link back to the file. Parsing lives in [`crate::parser`],
//! serialisation in [`crate::writer`], stream decoding in [`crate::filter`].

use crate::error::Result;

/// An indirect reference `num r#gen R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ObjRef {
    pub num: u32,
    pub r#gen: u16,
}

impl ObjRef {
    /// A reference with the given object number and generation.
    pub const fn new(num: u32, r#gen: u16) -> Self {
        Self { num, r#gen }
    }
}

/// A PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    Integer(i64),
    Real(f64),
    /// A name without the leading `/`, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// A string's bytes (literal or hex), escapes decoded.
    String(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Stream(Stream),
    Ref(ObjRef),
}

impl Object {
    /// A name object from its bytes (without `/`).
    pub fn name(n: &[u8]) -> Self {
        Object::Name(n.to_vec())
    }
    /// The dictionary of a `Dict` or of a `Stream`.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }
    /// The bytes of a `Name`.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }
    /// An `Integer`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }
    /// An `Integer` or a `Real` as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(*r),
            _ => None,
        }
    }
    /// The bytes of a `String`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Object::String(s) => Some(s),
            _ => None,
        }
    }
    /// The items of an `Array`.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }
    /// The target of a `Ref`.
    pub fn as_reference(&self) -> Option<ObjRef> {
        match self {
            Object::Ref(r) => Some(*r),
            _ => None,
        }
    }
}

/// A dictionary: keys (names without `/`) in file order.
///
/// Lookups are linear, which is fastest for the small dictionaries PDF is made of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dict {
    entries: Vec<(Vec<u8>, Object)>,
}

impl Dict {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }
    /// The value of `key`, if present.
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// Mutable access to the value of `key`.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Object> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
    /// Set `key` (replacing in place, or appending).
    pub fn set(&mut self, key: impl Into<Vec<u8>>, value: Object) {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }
    /// Remove `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let pos = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(pos).1)
    }
    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// `true` when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// `true` when `key` holds the name `name`.
    pub fn has_name(&self, key: &[u8], name: &[u8]) -> bool {
        self.get(key).and_then(Object::as_name) == Some(name)
    }
    /// Append without checking for duplicates (parser use: the first occurrence wins on `get`).
    pub(crate) fn push_raw(&mut self, key: Vec<u8>, value: Object) {
        self.entries.push((key, value));
    }
}

impl<K: Into<Vec<u8>>> FromIterator<(K, Object)> for Dict {
    fn from_iter<I: IntoIterator<Item = (K, Object)>>(iter: I) -> Self {
        let mut d = Dict::new();
        for (k, v) in iter {
            d.set(k, v);
        }
        d
    }
}

/// A stream: its dictionary and its raw (still encoded) data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {
    pub dict: Dict,
    pub data: Vec<u8>,
}

impl Stream {
    /// The decoded data: `/FlateDecode` (including PNG and TIFF predictors) or no filter.
    /// Any other filter is an error.
    pub fn decoded(&self) -> Result<Vec<u8>> {
        crate::filter::decode(&self.dict, &self.data, crate::filter::MAX_DECODED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_set_get_remove_keeps_order() {
        let mut d: Dict = [("A", Object::Integer(1)), ("B", Object::Bool(true))]
            .into_iter()
            .collect();
        d.set("A", Object::Integer(2));
        d.set("C", Object::Null);
        let keys: Vec<_> = d.iter().map(|(k, _)| k.to_vec()).collect();
        assert_eq!(keys, vec![b"A".to_vec(), b"B".to_vec(), b"C".to_vec()]);
        assert_eq!(d.get(b"A"), Some(&Object::Integer(2)));
        assert_eq!(d.remove(b"B"), Some(Object::Bool(true)));
        assert_eq!(d.len(), 2);
        assert!(d.get(b"B").is_none());
    }
}
