//! `polybox inspect`: a component's world, as WIT.

use std::path::PathBuf;

use clap::Args;
use polybox::{Error, Result};
use wit_component::{DecodedWasm, WitPrinter};

/// Arguments of `polybox inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The component (`.wasm`).
    component: PathBuf,
}

/// Prints the component's world (its imports and exports) and the
/// interfaces it uses, as WIT.
pub fn inspect(args: InspectArgs) -> Result<()> {
    let path = args.component.display();
    let bytes = std::fs::read(&args.component)
        .map_err(|e| Error::InvalidArg(format!("cannot read {path}: {e}")))?;
    let (resolve, world) = match wit_component::decode(&bytes) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => {
            return Err(Error::InvalidArg(format!(
                "{path} is a WIT package, not a component"
            )));
        }
        Err(e) => {
            return Err(Error::InvalidArg(format!(
                "{path} is not a WebAssembly component: {e:#}"
            )));
        }
    };
    let root = resolve.worlds[world]
        .package
        .expect("a decoded component's world belongs to a package");
    let others: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|&id| id != root)
        .collect();
    let mut printer = WitPrinter::default();
    printer
        .print(&resolve, root, &others)
        .map_err(|e| Error::Internal(format!("cannot print the world of {path}: {e:#}")))?;
    println!("{}", printer.output);
    Ok(())
}
