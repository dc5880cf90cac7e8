//! Regenerates the C header of proxy-lua-rs with the pinned cbindgen
//! (see Cargo.lock). Usage: gen-header <crate dir> <output file>
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: gen-header <crate dir> <output>"));
    let out = PathBuf::from(args.next().expect("usage: gen-header <crate dir> <output>"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed");
    bindings.write_to_file(&out);
}
