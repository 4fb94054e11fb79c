//! A key-value store of strings, exported as `polybox:kv/store`. Registered
//! with `ProtoJSSandbox::host_component("kv", ...)`, every guest of the
//! sandbox imports it as `host:kv` and sees the same data.

use std::cell::RefCell;
use std::collections::BTreeMap;

use exports::polybox::kv::store::Guest;

wit_bindgen::generate!({
    world: "kv-store",
    path: "wit",
});

thread_local! {
    static STORE: RefCell<BTreeMap<String, String>> = const { RefCell::new(BTreeMap::new()) };
}

struct KvStore;

impl Guest for KvStore {
    fn get(key: String) -> Option<String> {
        STORE.with_borrow(|store| store.get(&key).cloned())
    }

    fn set(key: String, value: String) {
        STORE.with_borrow_mut(|store| store.insert(key, value));
    }

    fn swap(key: String, value: String) -> Option<String> {
        STORE.with_borrow_mut(|store| store.insert(key, value))
    }

    fn delete(key: String) -> bool {
        STORE.with_borrow_mut(|store| store.remove(&key).is_some())
    }

    fn keys() -> Vec<String> {
        STORE.with_borrow(|store| store.keys().cloned().collect())
    }
}

export!(KvStore);
