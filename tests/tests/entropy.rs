//! Fresh randomness in every call: guest memory is captured in images,
//! snapshots and templates, and a generator seeded once would replay its
//! sequence after each restore (two requests served from one snapshot got
//! the same "random" token). Every case below returned equal values before
//! the guests drew a new seed from the host in each call.

use std::collections::BTreeSet;

use polybox::{ExecOptions, Language, Runtime, SandboxBuilder, Template};
use polybox_tests::load_with;

const JS: &str = "function handler() { return Math.random(); }";
const PYTHON: &str = "import random\ndef handler(event):\n    return random.random()\n";

/// Whether `values` are all different.
fn distinct(values: &[String]) -> bool {
    values.iter().collect::<BTreeSet<_>>().len() == values.len()
}

#[test]
fn restores_of_one_snapshot_never_agree() {
    for (language, source) in [(Language::JavaScript, JS), (Language::Python, PYTHON)] {
        let mut loaded = load_with(SandboxBuilder::new().language(language), &[("r", source)]);
        // A first draw seeds the generator; the snapshot captures it.
        loaded.handle_event("r", "{}", None).unwrap();
        let snapshot = loaded.snapshot().unwrap();
        let values: Vec<String> = (0..4)
            .map(|_| {
                loaded.restore(&snapshot).unwrap();
                loaded.handle_event("r", "{}", None).unwrap()
            })
            .collect();
        assert!(distinct(&values), "{language:?}: {values:?}");
    }
}

#[test]
fn sandboxes_from_one_template_never_agree() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto.register("m", "noop", || 0).unwrap();
    let template = Template::builder(proto).handler("r", JS).build().unwrap();
    let values: Vec<String> = (0..4)
        .map(|_| {
            template
                .create()
                .unwrap()
                .handle_event("r", "{}", None)
                .unwrap()
        })
        .collect();
    assert!(distinct(&values), "{values:?}");
}

#[test]
fn programs_of_one_runtime_never_agree() {
    let mut runtime = Runtime::builder().build().unwrap();
    let values: Vec<String> = (0..4)
        .map(|_| {
            let output = runtime
                .exec(
                    "console.log(Math.random(), require('crypto').randomUUID())",
                    ExecOptions::default(),
                )
                .unwrap();
            String::from_utf8(output.stdout).unwrap()
        })
        .collect();
    assert!(distinct(&values), "{values:?}");
}

#[test]
fn a_python_guest_that_seeds_random_itself_keeps_its_sequence() {
    let mut loaded = load_with(
        SandboxBuilder::new().language(Language::Python),
        &[(
            "r",
            "import random\nrandom.seed(42)\ndef handler(event):\n    return random.random()\n",
        )],
    );
    let first = loaded.handle_event("r", "{}", None).unwrap();
    let second = loaded.handle_event("r", "{}", None).unwrap();
    let mut expected = load_with(
        SandboxBuilder::new().language(Language::Python),
        &[(
            "r",
            "import random\ndef handler(event):\n    g = random.Random(42)\n    return [g.random(), g.random()]\n",
        )],
    );
    assert_eq!(
        format!("[{first},{second}]"),
        expected.handle_event("r", "{}", None).unwrap()
    );
}
