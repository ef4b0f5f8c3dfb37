//! The query parameter naming a user-assigned identity, per endpoint kind: App Service and
//! IMDS spell the object and resource ids differently (as the Azure SDKs and MSAL send them).

use vaultgate_config::SettingProblem;
use vaultgate_config::secrets_settings::{CredentialSettings, UserAssigned};

pub fn selector<'a>(
    identity: Option<&'a UserAssigned>,
    object_id: &'static str,
    resource_id: &'static str,
) -> Option<(&'static str, &'a str)> {
    identity.map(|identity| match identity {
        UserAssigned::ClientId(id) => ("client_id", id.as_str()),
        UserAssigned::ObjectId(id) => (object_id, id.as_str()),
        UserAssigned::ResourceId(id) => (resource_id, id.as_str()),
    })
}

/// As the SDKs: some sources take no user-assigned identity at runtime (Service Fabric and
/// Azure Arc set it in the resource's configuration; Cloud Shell is the signed-in user).
pub fn not_taken(settings: &CredentialSettings, source: &'static str, problems: &mut Vec<SettingProblem>) {
    if settings.user_assigned.value.is_some() {
        problems.push(SettingProblem::UserAssignedNotTaken { source });
    }
}
