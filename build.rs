fn main() {
    // napi-build links a windows-gnu build against libnode.dll. The Windows addon is built for
    // msvc (Node-API is looked up in the host process at load), and windows-gnu only
    // cross-checks the crate and builds the daemon, so it skips the addon's link setup.
    let target = |key| std::env::var(key).unwrap_or_default();
    if target("CARGO_CFG_TARGET_OS") == "windows" && target("CARGO_CFG_TARGET_ENV") == "gnu" {
        return;
    }
    napi_build::setup();
}
