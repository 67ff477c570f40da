//! Organisations, members, roles and the acting principal.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An organisation (tenant). Everything else belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Its id (`org_…`).
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// A member's role in an organisation, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including deleting the organisation and naming other owners.
    Owner,
    /// Members, API keys, all contracts.
    Admin,
    /// Sends contracts and manages their own.
    Sender,
    /// Sees contracts they sent or that were shared with them; sends nothing.
    Member,
}

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Rename the organisation, make owners.
    ManageOrganisation,
    /// Invite, remove members and change their roles.
    ManageMembers,
    /// Create and revoke API keys; read the SMS outbox.
    ManageApiKeys,
    /// Create and send contracts.
    SendContracts,
    /// See and act on every contract of the organisation, not only one's own.
    AllContracts,
}

impl Role {
    /// The role's name in the API (`owner`, `admin`, `sender`, `member`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Sender => "sender",
            Role::Member => "member",
        }
    }

    /// Parses an API role name.
    pub fn parse(s: &str) -> Result<Role, DomainError> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "sender" => Ok(Role::Sender),
            "member" => Ok(Role::Member),
            other => Err(DomainError::invalid("role", format!("{other:?} is not a role; use owner, admin, sender or member"))),
        }
    }

    /// Whether the role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        match p {
            Permission::ManageOrganisation => self == Role::Owner,
            Permission::ManageMembers | Permission::ManageApiKeys | Permission::AllContracts => self <= Role::Admin,
            Permission::SendContracts => self <= Role::Sender,
        }
    }
}

/// Who acts: a member through a session, or an API key. An API key acts with the role it was
/// given when created, inside its organisation only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The organisation the actor acts in.
    pub org: String,
    /// The user id (`usr_…`) or API key id (`key_…`).
    pub principal: String,
    /// The role in that organisation.
    pub role: Role,
}

impl Actor {
    /// Fails with [`DomainError::Forbidden`] unless the role grants `p`.
    pub fn require(&self, p: Permission, what: &'static str) -> Result<(), DomainError> {
        if self.role.allows(p) { Ok(()) } else { Err(DomainError::Forbidden(what)) }
    }

    /// Whether an object of organisation `org` exists for this actor at all.
    pub fn sees_org(&self, org: &str) -> bool {
        self.org == org
    }
}

/// Checks a member's role change: only owners make or unmake owners, nobody changes their own
/// role, and the last owner stays an owner.
pub fn check_role_change(actor: &Actor, target_user: &str, from: Role, to: Role, owners: usize) -> Result<(), DomainError> {
    actor.require(Permission::ManageMembers, "changing members' roles")?;
    if actor.principal == target_user {
        return Err(DomainError::Forbidden("changing your own role"));
    }
    if (from == Role::Owner || to == Role::Owner) && actor.role != Role::Owner {
        return Err(DomainError::Forbidden("making or unmaking owners (owners only)"));
    }
    if from == Role::Owner && to != Role::Owner && owners <= 1 {
        return Err(DomainError::invalid("role", "an organisation keeps at least one owner"));
    }
    Ok(())
}

/// Checks adding a member with `role`: only members managers add, and nobody gives more power
/// than their own.
pub fn check_new_member(actor: &Actor, role: Role) -> Result<(), DomainError> {
    actor.require(Permission::ManageMembers, "adding members")?;
    if role < actor.role {
        return Err(DomainError::Forbidden("giving a member more power than your own"));
    }
    Ok(())
}

/// Checks removing a member: as a role change to nothing — not oneself, owners only by
/// owners, never the last owner.
pub fn check_member_removal(actor: &Actor, target_user: &str, role: Role, owners: usize) -> Result<(), DomainError> {
    actor.require(Permission::ManageMembers, "removing members")?;
    if actor.principal == target_user {
        return Err(DomainError::Forbidden("removing yourself"));
    }
    if role == Role::Owner && actor.role != Role::Owner {
        return Err(DomainError::Forbidden("removing owners (owners only)"));
    }
    if role == Role::Owner && owners <= 1 {
        return Err(DomainError::invalid("user_id", "an organisation keeps at least one owner"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor { org: "org_a".into(), principal: "usr_1".into(), role }
    }

    #[test]
    fn roles_grant_what_they_should_and_nothing_more() {
        use Permission::*;
        let table = [
            (Role::Owner, [true, true, true, true, true]),
            (Role::Admin, [false, true, true, true, true]),
            (Role::Sender, [false, false, false, true, false]),
            (Role::Member, [false, false, false, false, false]),
        ];
        for (role, want) in table {
            let got = [ManageOrganisation, ManageMembers, ManageApiKeys, SendContracts, AllContracts].map(|p| role.allows(p));
            assert_eq!(got, want, "{role:?}");
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert_eq!(Role::parse("root").unwrap_err().code(), "invalid_input");
    }

    #[test]
    fn role_changes_keep_an_owner_and_need_the_right_rank() {
        let owner = actor(Role::Owner);
        let admin = actor(Role::Admin);
        assert!(check_role_change(&owner, "usr_2", Role::Sender, Role::Admin, 1).is_ok());
        assert!(check_role_change(&admin, "usr_2", Role::Sender, Role::Admin, 1).is_ok());
        assert_eq!(check_role_change(&admin, "usr_2", Role::Sender, Role::Owner, 1).unwrap_err().code(), "forbidden");
        assert_eq!(check_role_change(&owner, "usr_1", Role::Owner, Role::Admin, 2).unwrap_err().code(), "forbidden");
        assert_eq!(check_role_change(&owner, "usr_2", Role::Owner, Role::Admin, 1).unwrap_err().code(), "invalid_input");
        assert!(check_role_change(&owner, "usr_2", Role::Owner, Role::Admin, 2).is_ok());
        assert_eq!(check_role_change(&actor(Role::Sender), "usr_2", Role::Member, Role::Sender, 1).unwrap_err().code(), "forbidden");
    }

    #[test]
    fn members_are_added_and_removed_within_ones_rank() {
        let owner = actor(Role::Owner);
        let admin = actor(Role::Admin);
        assert!(check_new_member(&admin, Role::Admin).is_ok());
        assert!(check_new_member(&admin, Role::Member).is_ok());
        assert_eq!(check_new_member(&admin, Role::Owner).unwrap_err().code(), "forbidden");
        assert!(check_new_member(&owner, Role::Owner).is_ok());
        assert_eq!(check_new_member(&actor(Role::Sender), Role::Member).unwrap_err().code(), "forbidden");
        assert!(check_member_removal(&admin, "usr_2", Role::Sender, 1).is_ok());
        assert_eq!(check_member_removal(&admin, "usr_2", Role::Owner, 2).unwrap_err().code(), "forbidden");
        assert!(check_member_removal(&owner, "usr_2", Role::Owner, 2).is_ok());
        assert_eq!(check_member_removal(&owner, "usr_2", Role::Owner, 1).unwrap_err().code(), "invalid_input");
        assert_eq!(check_member_removal(&owner, "usr_1", Role::Admin, 2).unwrap_err().code(), "forbidden", "not oneself");
        assert_eq!(check_member_removal(&actor(Role::Member), "usr_2", Role::Member, 1).unwrap_err().code(), "forbidden");
    }
}
