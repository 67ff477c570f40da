//! signet-pades
