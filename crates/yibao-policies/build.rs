// The policy tree is embedded with include_dir; tell cargo to rebuild when any file under it
// changes or is added (a directory path makes cargo scan it).
fn main() {
    println!("cargo:rerun-if-changed=../../policies");
}
