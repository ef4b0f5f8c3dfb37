//! Tools around vaultgate; the binaries are in src/bin.
