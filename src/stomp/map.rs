//! A small ordered map from `String` keys, for the session's receipts, subscriptions and
//! transactions: a `Vec` kept sorted by key, searched by bisection. It iterates in key order
//! like `BTreeMap`, so the session behaves exactly as with one, but each instantiation costs a
//! few hundred bytes of wasm where a `BTreeMap`'s node code costs ~10 KB. The maps stay small
//! (a session's live subscriptions and outstanding receipts), so moving the tail on insert and
//! remove is cheap.

/// A map from `String` to `V`, sorted by key.
#[derive(Clone, Debug)]
pub(crate) struct StrMap<V>(Vec<(String, V)>);

impl<V> Default for StrMap<V> {
    fn default() -> Self {
        StrMap(Vec::new())
    }
}

impl<V> StrMap<V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let i = self.find(key).ok()?;
        self.0.get(i).map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let i = self.find(key).ok()?;
        self.0.get_mut(i).map(|(_, v)| v)
    }

    /// Inserts or replaces; returns the value replaced.
    pub(crate) fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => self.0.get_mut(i).map(|(_, v)| core::mem::replace(v, value)),
            Err(i) => {
                self.0.insert(i.min(self.0.len()), (key, value));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.find(key).ok()?;
        // `find` found it, so `i < len` and `remove` cannot panic.
        (i < self.0.len()).then(|| self.0.remove(i).1)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    #[cfg(test)]
    pub(crate) fn into_values(self) -> impl Iterator<Item = V> {
        self.0.into_iter().map(|(_, v)| v)
    }

    /// The entries, in key order.
    pub(crate) fn into_vec(self) -> Vec<(String, V)> {
        self.0
    }
}

/// A set of strings.
pub(crate) type StrSet = StrMap<()>;

impl StrSet {
    /// Adds `key`; whether it was new.
    pub(crate) fn add(&mut self, key: String) -> bool {
        self.insert(key, ()).is_none()
    }

    pub(crate) fn into_keys(self) -> impl Iterator<Item = String> {
        self.0.into_iter().map(|(k, ())| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btree_map() {
        let mut m = StrMap::default();
        let mut b = BTreeMap::new();
        // A fixed pseudo-random walk over a few keys.
        let mut x = 7u32;
        for step in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = format!("k{}", (x >> 16) % 23);
            match (x >> 8) % 3 {
                0 => assert_eq!(m.insert(key.clone(), step), b.insert(key, step)),
                1 => assert_eq!(m.remove(&key), b.remove(&key)),
                _ => {
                    assert_eq!(m.get(&key), b.get(&key));
                    assert_eq!(m.contains_key(&key), b.contains_key(&key));
                    if let (Some(a), Some(c)) = (m.get_mut(&key), b.get_mut(&key)) {
                        *a += 1;
                        *c += 1;
                    }
                }
            }
            assert_eq!(m.len(), b.len());
            assert!(m.iter().eq(b.iter()));
        }
        assert!(m.keys().eq(b.keys()));
        for v in m.values_mut() {
            *v = 0;
        }
        assert!(m.into_values().all(|v| v == 0));
    }

    #[test]
    fn sets() {
        let mut s = StrSet::default();
        assert!(s.add("b".into()));
        assert!(s.add("a".into()));
        assert!(!s.add("a".into()));
        assert!(s.contains_key("a"));
        assert_eq!(s.remove("a"), Some(()));
        assert_eq!(s.remove("a"), None);
        assert_eq!(s.into_keys().collect::<Vec<_>>(), vec!["b".to_owned()]);
    }
}
