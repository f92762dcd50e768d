//! From sources to jail plans: jail.conf semantics ([`conf`]).

pub mod conf;
