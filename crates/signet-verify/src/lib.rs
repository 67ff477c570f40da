//! signet-verify
