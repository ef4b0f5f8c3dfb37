use vaultgate::protected;

#[protected(role = "GetSecret")]
struct Handler;

fn main() {}
