//! Links the addon against Node-API (napi-rs's build support).
fn main() {
    napi_build::setup();
}
