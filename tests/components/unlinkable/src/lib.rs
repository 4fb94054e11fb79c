//! Test fixture: a component module that imports `acme:payments/ledger`,
//! which no Polybox host provides, so loading it must fail.

use acme::payments::ledger::balance;

wit_bindgen::generate!({
    world: "unlinkable",
    path: "wit",
});

struct Unlinkable;

impl Guest for Unlinkable {
    fn total(accounts: Vec<String>) -> u64 {
        accounts.iter().map(|account| balance(account)).sum()
    }
}

export!(Unlinkable);
