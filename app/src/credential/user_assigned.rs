//! The query parameter naming a user-assigned identity, per endpoint kind: App Service and
//! IMDS spell the object and resource ids differently (as the Azure SDKs and MSAL send them).

use vaultgate_config::secrets_settings::UserAssigned;

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
