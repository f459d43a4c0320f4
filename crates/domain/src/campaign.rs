//! Campaigns: reports joined by shared indicators, and the status security gives them.

crate::named_enum! {
    /// A campaign's status, as security sets it.
    pub enum CampaignStatus {
        /// Under way.
        Active = "active",
        /// Security has acted (numbers blocked, domains taken down) and is watching.
        Contained = "contained",
        /// Over (a new report reopens it).
        Closed = "closed",
    }
}

impl CampaignStatus {
    /// Reads a stored or API name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::from_name(text)
    }
}
