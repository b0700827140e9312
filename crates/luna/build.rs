fn main() {
    // napi's link settings concern only the Node binding.
    #[cfg(feature = "napi")]
    napi_build::setup();
}
